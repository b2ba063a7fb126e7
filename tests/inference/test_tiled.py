"""The tiled CPU engine computes the plain generator's function for any length, batch and tile size."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.config import config_from_dict, load_config
from hifigan.inference.fused import FusedGenerator
from hifigan.inference.tiled import TiledGenerator, onednn_available
from hifigan.models import Generator
from tests.support.tiny import tiny_config

TOL = 1e-4


def _pair(cfg, seed=0):
    torch.manual_seed(seed)
    g = Generator(cfg).eval().remove_weight_norm()
    return g, FusedGenerator(g)


_TINY = {name: (tiny_config(name), *_pair(tiny_config(name))) for name in ("1", "2")}
ENGINES = [True, False] if onednn_available() else [False]


@settings(max_examples=25, deadline=None)
@given(resblock=st.sampled_from(["1", "2"]), frames=st.integers(1, 90), batch=st.integers(1, 3),
       tile=st.sampled_from([1, 700, 5000, 1 << 19]), onednn=st.sampled_from(ENGINES))
def test_tiled_equals_plain_generator(resblock, frames, batch, tile, onednn):
    cfg, g, fused = _TINY[resblock]
    mel = torch.randn(batch, cfg.num_mels, frames)
    with torch.inference_mode():
        got = TiledGenerator(fused, tile, onednn)(mel)
        expected = g(mel)
    assert got.shape == expected.shape == (batch, 1, frames * cfg.hop_size)
    assert (got - expected).abs().max() < TOL


@pytest.mark.parametrize(("name", "tile"), [("v1", 16384), ("v3", 4096)])
def test_tiled_halos_are_exact_and_tight(name, tile):
    """The per-stage context derived from the layers is enough and no more: in float64 (plain torch convs)
    tiling reproduces the untiled model to rounding, and one sample less on either side of any stage
    changes the output by orders of magnitude more. The halos depend on kernels, strides and dilations, not on
    widths: the preset's geometry at 1/8 of its channels, with tile_elements / 8 (the same tiles), runs ~50x faster."""
    preset = load_config(name)
    narrow = preset.upsample_initial_channel // 8
    _, fused = _pair(config_from_dict({**preset.to_dict(), "upsample_initial_channel": narrow}))
    tile //= 8
    fused.double()
    mel = torch.randn(1, 80, 20, dtype=torch.float64) - 4  # longer than twice any stage's context
    with torch.inference_mode():
        expected = fused(mel)
        tiled = TiledGenerator(fused, tile_elements=tile, onednn=False)  # many tiles in every stage
        assert (tiled(mel) - expected).abs().max() < 1e-12
        exact = list(tiled.halos)
        for stage, (left, right) in enumerate(exact):
            for short in ((left - 1, right), (left, right - 1)):
                tiled.halos = [*exact[:stage], short, *exact[stage + 1 :]]
                assert (tiled(mel) - expected).abs().max() > 1e-10, (stage, short)
    # By hand for V3's last stage: blocks reach 3 * (3 + 12) = 45 samples, conv_post 3 more; the
    # transposed conv (kernel 8, stride 4, padding 2) maps sample n to inputs ceil((n - 5) / 4)..floor((n + 2) / 4).
    assert exact == ([(8, 8), (8, 8), (31, 31), (32, 32)] if name == "v1" else [(7, 7), (7, 7), (13, 13)])


def test_tiled_needs_the_channels_last_fused_layout():
    _, g, fused = _TINY["1"]
    with pytest.raises(ValueError, match="layout='2d'"):
        TiledGenerator(FusedGenerator(g, layout="1d"))
    assert TiledGenerator(fused).tile_elements == 1 << 19
