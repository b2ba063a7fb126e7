"""A generator saved bare, `torch.save(generator.state_dict(), "g.pt")` (ours or the official Generator's, any
weight-norm keys, any wrapper prefix), loads as the same weights wrapped in {"generator": ...} do, bit for bit; a bare
state dict of something else is refused by what it holds. `Vocoder.from_checkpoint` also takes a loaded dict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.errors import CheckpointError, Note
from hifigan.inference import Vocoder
from hifigan.models.discriminators import MultiPeriodDiscriminator
from hifigan.models.generator import Generator
from tests.support.cli_runs import failed_cleanly, one_line, run
from tests.support.files import save_config_json
from tests.support.official_reference import RefGenerator
from tests.support.tiny import tiny_config

CFG = tiny_config("1")


def _state(kind: str) -> dict:
    """A seeded tiny generator's state dict: ours (parametrization keys), or the official one's (weight_g/v), prefixed
    as a wrapper saves it."""
    torch.manual_seed(0)
    model, _, prefix = kind.partition("+")
    state = (Generator(CFG) if model == "ours" else RefGenerator(CFG)).state_dict()
    return {prefix + k: v for k, v in state.items()}


def _float64_audio(generator: torch.nn.Module) -> torch.Tensor:
    mel = torch.randn(CFG.num_mels, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) - 4
    return Vocoder(generator.double(), CFG, backend="eager")(mel)


@pytest.mark.parametrize("kind", ["ours", "official", "official+module.", "ours+_orig_mod.module."])
def test_a_bare_generator_loads_as_the_same_weights_wrapped(tmp_path, kind):
    config = save_config_json(tmp_path / "tiny.json", CFG)
    torch.save(_state(kind), tmp_path / "bare.pt")
    torch.save({"generator": _state(kind)}, tmp_path / "g_00000001")
    bare, bare_config = load_generator(tmp_path / "bare.pt", config)
    wrapped, wrapped_config = load_generator(tmp_path / "g_00000001", config)
    assert bare_config == wrapped_config
    assert torch.equal(_float64_audio(bare), _float64_audio(wrapped))


def test_a_bare_generator_takes_the_official_config_json_beside_it(tmp_path):
    save_config_json(tmp_path / "config.json", CFG)
    torch.save(_state("official"), tmp_path / "generator.pt")
    with pytest.warns(Note, match="using .*config.json, beside it"):
        _, config = load_generator(tmp_path / "generator.pt")
    assert config == CFG


def test_a_bare_generator_without_a_config_asks_for_one(tmp_path):
    torch.save(_state("ours"), tmp_path / "g.pt")
    with pytest.raises(CheckpointError, match=r"g.pt: a generator's bare state dict carries no config: pass "
                                              r"config=\.\.\."):
        load_generator(tmp_path / "g.pt")


def test_a_bare_discriminator_is_refused_by_what_it_holds(tmp_path, capsys):
    config = save_config_json(tmp_path / "tiny.json", CFG)
    torch.save(MultiPeriodDiscriminator().state_dict(), tmp_path / "mpd.pt")
    with pytest.raises(CheckpointError, match=r"mpd.pt: holds a bare state dict of \d+ tensors under "
                                              r"discriminators\.\*, not a HiFi-GAN generator's"):
        load_generator(tmp_path / "mpd.pt", config)
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "mpd.pt", "--config", config, "--out", tmp_path / "out",
                       tmp_path / "x.npy")
    assert code == 2 and "mpd.pt: holds a bare state dict" in one_line(err)
    code, _, err = run(capsys, "train", "--init-from", tmp_path / "mpd.pt", "--config", config, "--corpus",
                       tmp_path, "--out", tmp_path / "run")  # refused before the scan: no run folder
    failed_cleanly(code, err, tmp_path / "run", "mpd.pt: holds a bare state dict")


def test_vocode_and_export_take_a_bare_generator(tmp_path, capsys):
    config = save_config_json(tmp_path / "tiny.json", CFG)
    torch.save(_state("official+module."), tmp_path / "bare.pt")
    np.save(tmp_path / "m.npy", np.full((CFG.num_mels, 6), -4.0, np.float32))
    code, _, err = run(capsys, "vocode", "-q", "-c", tmp_path / "bare.pt", "--config", config, "--out",
                       tmp_path / "out", tmp_path / "m.npy")
    assert code == 0 and (tmp_path / "out" / "m.wav").is_file(), err
    assert main(["export", "-q", "-c", str(tmp_path / "bare.pt"), "--config", str(config), "--format",
                 "torchscript", "-o", str(tmp_path / "g.ts")]) == 0


def test_from_checkpoint_takes_a_loaded_dict_as_its_file(tiny_checkpoint):
    mel = torch.randn(CFG.num_mels, 7, generator=torch.Generator().manual_seed(2)) - 4
    from_file = Vocoder.from_checkpoint(tiny_checkpoint)(mel)
    assert torch.equal(Vocoder.from_checkpoint(read_checkpoint(tiny_checkpoint))(mel), from_file)
    bare = read_checkpoint(tiny_checkpoint)["generator"]
    assert torch.equal(Vocoder.from_checkpoint(bare, config=tiny_config())(mel), from_file)


def test_from_checkpoint_refuses_anything_else_in_one_line():
    with pytest.raises(TypeError) as caught:
        Vocoder.from_checkpoint([1, 2])
    assert str(caught.value) == ("checkpoint must be a file's path (a str or os.PathLike) or a loaded checkpoint "
                                 "dict, not a list")


def _without(prefix: str) -> dict:
    return {k: v for k, v in _state("ours").items() if not k.startswith(prefix)}


@pytest.mark.parametrize(("state", "held"), [
    (_without("conv_pre."), "under ups.*, resblocks.*, conv_post.*, not"),  # a generator's modules, not all of them
    ({**_state("ours"), "mpd.w": torch.zeros(1)}, "under conv_pre.*, ups.*, resblocks.*, ..., not"),  # and more
    ({}, None),  # no tensor at all: no bare state dict either
])
def test_a_bare_dict_that_is_not_a_whole_generator_is_refused_by_what_it_holds(tmp_path, state, held):
    torch.save(state, tmp_path / "part.pt")
    with pytest.raises(CheckpointError) as refused:
        load_generator(tmp_path / "part.pt", save_config_json(tmp_path / "tiny.json", CFG))
    line = str(refused.value)
    if held is None:
        assert line.endswith("part.pt: not a HiFi-GAN generator checkpoint (neither ours nor an official g_* file)")
    else:
        assert f": holds a bare state dict of {len(state)} tensors {held} a HiFi-GAN generator's" in line, line
