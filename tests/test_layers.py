"""The generator's layer description is what the engines run: its receptive field is the one the network has,
a changed activation reaches every engine or none, and an engine never runs a layer it does not implement."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hifigan.cli import build_parser
from hifigan.config import HifiganConfig, config_from_dict, load_config
from hifigan.errors import HifiganError
from hifigan.inference.export import export_generator
from hifigan.inference.names import BACKENDS, BENCH_BACKENDS
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.layers import ReceptiveField
from tiny import tiny_config

ENGINES = tuple(b for b in BENCH_BACKENDS if b != "eager")
FLOAT64_ENGINES = tuple(b for b in ENGINES if not b.startswith("onnx"))  # ONNX Runtime has no float64 conv


def _narrow(name: str) -> HifiganConfig:
    """An official config with 32 channels: same kernels, dilations and rates, so the same receptive field."""
    return config_from_dict({**load_config(name).to_dict(), "upsample_initial_channel": 32})


def _measured_field(g: Generator, num_mels: int, hop: int, frames: int = 41) -> ReceptiveField:
    """In float64, which output frames move at all when one middle input frame is perturbed."""
    mel = torch.randn(1, num_mels, frames, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) - 3
    poked = mel.clone()
    poked[:, :, frames // 2] += 1.0
    with torch.inference_mode():
        diff = (g(poked) - g(mel)).abs().reshape(frames, hop).amax(dim=1)
    changed = torch.nonzero(diff > 0).flatten()
    # output frame f reads input frames [f - left, f + right]; so frame c moves outputs [c - right, c + left]
    return ReceptiveField(left=int(changed.max()) - frames // 2, right=frames // 2 - int(changed.min()))


@pytest.mark.usefixtures("single_thread")
@pytest.mark.parametrize("name", ["tiny1", "tiny2", "v1", "v2", "v3"])
def test_receptive_field_of_the_description_is_the_measured_one(name):
    cfg = {"tiny1": tiny_config("1"), "tiny2": tiny_config("2")}.get(name) or _narrow(name)
    torch.manual_seed(0)
    g = Generator(cfg).double().eval().remove_weight_norm()
    field = g.layers().receptive_field()
    assert field == _measured_field(g, cfg.num_mels, cfg.hop_size)
    if name in ("v1", "v2", "v3"):  # as test_streaming has it for the full-width models
        assert field == (ReceptiveField(11, 11) if name == "v3" else ReceptiveField(13, 13))


def test_description_of_v1_names_every_layer_with_its_activation():
    layers = Generator(load_config("v1")).layers()
    assert dict.fromkeys(kind for kind, _ in layers.kinds()).keys() == {
        "conv1d", "conv_transpose1d", "leaky_relu", "output tanh"}
    assert len(list(layers.convs())) == 1 + 4 + 4 * 3 * 3 * 2 + 1
    unit = layers.stages[1].blocks[2].units[1]  # ResBlock1: (conv dilated 3, conv dilated 1), each after lrelu 0.1
    assert [(c.where, c.kernel, c.dilation, c.padding, c.act.slope) for c in unit] == [
        ("resblocks.5.convs1.1", 11, 3, 15, 0.1), ("resblocks.5.convs2.1", 11, 1, 5, 0.1)]
    assert (layers.stages[0].up.kernel, layers.stages[0].up.stride, layers.stages[0].up.padding) == (16, 8, 4)
    assert layers.conv_post.act.slope == 0.01 and layers.output.kind == "tanh" and layers.hop == 256


class _Snake(nn.Module):
    """x + sin^2(a x) / a (Ziyin et al. 2020), the activation BigVGAN swaps in for leaky ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor(0.7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.sin(self.alpha * x) ** 2 / self.alpha


class _SnakeGenerator(Generator):
    def __init__(self, cfg: HifiganConfig) -> None:
        super().__init__(cfg)
        for block in self.resblocks:
            block.activation = _Snake()


class _SlopeGenerator(Generator):
    """Other leaky ReLU slopes everywhere, a different one per block of a stage."""

    def __init__(self, cfg: HifiganConfig) -> None:
        super().__init__(cfg)
        self.activation = nn.LeakyReLU(0.3)
        self.post_activation = nn.LeakyReLU(0.2)
        for i, block in enumerate(self.resblocks):
            block.activation = nn.LeakyReLU(0.05 + 0.1 * i)


class _GainGenerator(Generator):
    """A forward of its own (the layers are the same, the function is not)."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return 0.5 * super().forward(mel)


def _same_weights(cls: type[Generator], cfg: HifiganConfig) -> Generator:
    torch.manual_seed(0)
    state = Generator(cfg).state_dict()
    g = cls(cfg)
    g.load_state_dict(state, strict=False)  # the Snake alphas are the variant's own
    return g


@pytest.mark.parametrize("resblock", ["1", "2"])
def test_other_slopes_reach_every_engine(resblock):
    """Each engine computes the variant's own function (float64: to rounding), far from the default slopes'."""
    cfg = tiny_config(resblock)
    mel = torch.randn(cfg.num_mels, 37, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) - 2
    with torch.inference_mode():
        expected = _same_weights(_SlopeGenerator, cfg).double().eval().remove_weight_norm()(mel[None])[0, 0]
        default = _same_weights(Generator, cfg).double().eval().remove_weight_norm()(mel[None])[0, 0]
    assert (default - expected).abs().max() > 1e-3  # what an engine restating the default slopes would be off by
    for backend in ENGINES:
        g = _same_weights(_SlopeGenerator, cfg)
        if backend in FLOAT64_ENGINES:
            got = Vocoder(g.double(), cfg, backend=backend)(mel)
            assert (got - expected).abs().max() < 1e-12, backend
        else:
            got = Vocoder(g, cfg, backend=backend)(mel.float())
            assert (got - expected).abs().max() < 1e-4, backend


@pytest.mark.parametrize(("cls", "kind", "where"), [
    (_SnakeGenerator, "_Snake", "resblocks.0.activation"),
    (_GainGenerator, "_GainGenerator.forward", "the generator"),
])
def test_auto_runs_eager_with_a_notice_when_the_engine_lacks_a_layer(cls, kind, where, capsys):
    cfg = tiny_config("1")
    mel = torch.randn(cfg.num_mels, 23) - 2
    g = _same_weights(cls, cfg)
    vocoder = Vocoder(g, cfg)  # auto
    notice = capsys.readouterr().err
    assert vocoder.backend == "eager"
    assert notice == f"hifigan: backend auto: backend tiled-split does not implement {kind} ({where}); running eager\n"
    with torch.inference_mode():
        assert torch.equal(vocoder(mel), g(mel[None])[0, 0])


@pytest.mark.parametrize("backend", ENGINES)
def test_naming_an_engine_that_lacks_a_layer_is_a_one_line_error(backend):
    cfg = tiny_config("2")
    with pytest.raises(HifiganError) as info:
        Vocoder(_same_weights(_SnakeGenerator, cfg), cfg, backend=backend)
    assert str(info.value) == (f"backend {backend} does not implement _Snake (resblocks.0.activation); "
                               "backend eager runs any generator")


def test_output_activation_and_export_are_checked_too(tmp_path):
    cfg = tiny_config("2")
    g = _same_weights(Generator, cfg)
    g.output_activation = nn.Hardtanh()
    with pytest.raises(HifiganError, match=r"^backend fused does not implement output Hardtanh \(output_activation\)"):
        Vocoder(g, cfg, backend="fused")
    for fmt in ("onnx", "torchscript"):  # the exported file would hold the fused form: refused, nothing written
        with pytest.raises(HifiganError, match=r"does not implement output Hardtanh \(output_activation\)"):
            export_generator(g, fmt, tmp_path / f"g.{fmt}")
    assert list(tmp_path.iterdir()) == []


def test_one_backend_list_for_the_cli():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    assert tuple(next(a for a in sub["vocode"]._actions if a.dest == "backend").choices) == BACKENDS
    assert next(a for a in sub["bench"]._actions if a.dest == "backends").default == ",".join(BENCH_BACKENDS)
    assert BENCH_BACKENDS == tuple(b for b in BACKENDS if b != "auto")
