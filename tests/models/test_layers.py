"""The generator's layer description is what the engines run: its receptive field is the one the network has,
a changed activation reaches every engine or none, and an engine never runs a layer it does not implement."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from hifigan.cli import build_parser
from hifigan.config import HifiganConfig, config_from_dict, load_config
from hifigan.config.files import preset_names
from hifigan.errors import HifiganError
from hifigan.inference.choices import BACKENDS, BENCH_BACKENDS, CPU_ONLY, CUDA_ONLY, device_backends
from hifigan.inference.export import export_generator
from hifigan.inference.fused import FusedGenerator
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.generator import ResBlock1
from hifigan.models.layers import ReceptiveField
from tests.support.official_reference import RefGenerator
from tests.support.tiny import odd_rate_config, tiny_config

ENGINES = tuple(b for b in device_backends("cpu") if b != "eager")  # cuda-graph: tests/inference (refusal)
FLOAT64_ENGINES = tuple(b for b in ENGINES if not b.startswith("onnx"))  # ONNX Runtime has no float64 conv


def _narrow(name: str) -> HifiganConfig:
    """A preset with 32 channels: same kernels, dilations and rates, so the same receptive field."""
    return config_from_dict({**load_config(name).to_dict(), "upsample_initial_channel": 32})


def _measured_field(g: Generator, num_mels: int, hop: int) -> ReceptiveField:
    """In float64, the mel frames on which the audio of one middle frame depends: where the derivative of a
    random projection of its samples is not zero. (A finite perturbation of a mel frame cannot show them all:
    the derivative at h200's last look-ahead frame is ~1e-25 of the middle frame's, so its effect is lost in
    float64 rounding, while the derivative itself is computed to full relative precision.)"""
    field = g.layers().receptive_field()
    frames = field.left + field.right + 11
    centre = field.left + 5  # five frames to spare on either side
    mel = torch.randn(1, num_mels, frames, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) - 3
    mel.requires_grad_(True)
    audio = g(mel)[0, 0, centre * hop : (centre + 1) * hop]
    audio.backward(torch.randn(hop, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))
    read = torch.nonzero(mel.grad[0].abs().amax(dim=0)).flatten()
    return ReceptiveField(left=centre - int(read.min()), right=int(read.max()) - centre)


def _geometry_config(resblock: str, rates: list[int], kernels: list[int]) -> HifiganConfig:
    """tiny_config with other upsampling rates and kernels (hop = the product of the rates)."""
    hop = math.prod(rates)
    n_fft = 64 + hop % 2  # n_fft - hop even, as the config requires; 64 bins leave none of the 16 filters empty
    return tiny_config(resblock, upsample_rates=rates, upsample_kernel_sizes=kernels, hop_size=hop, n_fft=n_fft,
                       win_size=n_fft, segment_size=64 * hop)


# name: (config, receptive field). h200, h300, h480: odd rates (tiny.ODD_RATES), with the presets' residual blocks;
# h200 looks one frame further ahead than back: its rate-5 stages pad (k - u + 1) / 2 (with output padding 1), half
# a sample more than a symmetric (k - u) / 2 would.
FIELDS = {
    "tiny1": (tiny_config("1"), ReceptiveField(8, 8)), "tiny2": (tiny_config("2"), ReceptiveField(7, 7)),
    "v1": (_narrow("v1"), ReceptiveField(13, 13)), "v2": (_narrow("v2"), ReceptiveField(13, 13)),
    "v3": (_narrow("v3"), ReceptiveField(11, 11)), "h200": (odd_rate_config("h200"), ReceptiveField(19, 20)),
    "h300": (odd_rate_config("h300"), ReceptiveField(19, 19)),
    "h480": (odd_rate_config("h480"), ReceptiveField(22, 22)),
    # Small kernels, where every sample of a frame reads the same last mel frame: the field is of the frame's own
    # hop samples, not one more (the next frame's first sample reads one frame further).
    "k3u3": (_geometry_config("1", [3], [3]), ReceptiveField(8, 8)),
    "k3u2x2": (_geometry_config("2", [2, 2], [3, 3]), ReceptiveField(12, 12)),
    # A frame whose last sample reads one mel frame further ahead than the sample before it: the field is that sample's.
    "k8u4": (_geometry_config("1", [4], [8]), ReceptiveField(8, 8)),
}


@pytest.mark.usefixtures("single_thread")
@pytest.mark.parametrize("name", list(FIELDS))
def test_receptive_field_of_the_description_is_the_measured_one(name):
    cfg, expected = FIELDS[name]
    torch.manual_seed(0)
    g = Generator(cfg).double().eval().remove_weight_norm()
    assert g.layers().receptive_field() == _measured_field(g, cfg.num_mels, cfg.hop_size) == expected


def _geometry(g: nn.Module) -> dict[str, tuple]:
    """Every convolution's (kind, kernel, stride, padding, output padding, dilation), by module name."""
    return {name: (nn.ConvTranspose1d if isinstance(m, nn.ConvTranspose1d) else nn.Conv1d, m.kernel_size, m.stride,
                   m.padding, m.output_padding, m.dilation)
            for name, m in g.named_modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))}


@pytest.mark.usefixtures("single_thread")
@pytest.mark.parametrize("name", preset_names())
def test_layers_are_the_official_ones_wherever_the_official_padding_is_exact(name):
    """The official (k - u) // 2 gives one sample too few per stage where k - u is odd; only those stages differ
    (padding one more, output padding 1); V1-V3 keep every layer as the official code builds it."""
    cfg = _narrow(name)
    ours, official = _geometry(Generator(cfg)), _geometry(RefGenerator(cfg))
    odd = {f"ups.{i}": (u, k) for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes))
           if (k - u) % 2}
    assert ours.keys() == official.keys() and {n for n in ours if ours[n] != official[n]} == odd.keys()
    for where, (u, k) in odd.items():
        assert ours[where][3:5] == (((k - u) // 2 + 1,), (1,)) and official[where][3:5] == (((k - u) // 2,), (0,))
    assert bool(odd) == (name in ("h200", "pwg-24k", "audiosr-48k"))


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
    """Other leaky ReLU slopes everywhere, a different one per block of a stage; the first block's a ReLU (slope 0)."""

    def __init__(self, cfg: HifiganConfig) -> None:
        super().__init__(cfg)
        self.activation = nn.LeakyReLU(0.3)
        self.post_activation = nn.LeakyReLU(0.2)
        for i, block in enumerate(self.resblocks):
            block.activation = nn.LeakyReLU(0.05 + 0.1 * i) if i else nn.ReLU()


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
def test_auto_runs_eager_with_a_warning_when_the_engine_lacks_a_layer(cls, kind, where, capsys):
    """A RuntimeWarning pointing at the caller of Vocoder (the CLI makes it its one line); nothing printed."""
    cfg = tiny_config("1")
    mel = torch.randn(cfg.num_mels, 23) - 2
    g = _same_weights(cls, cfg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vocoder = Vocoder(g, cfg)  # auto
    assert vocoder.backend == "eager"
    assert [(w.category, str(w.message)) for w in caught] == [
        (RuntimeWarning, f"backend auto: backend tiled-split does not implement {kind} ({where}); running eager")]
    assert caught[0].filename == __file__
    assert capsys.readouterr().err == ""
    with torch.inference_mode():
        assert torch.equal(vocoder(mel), g(mel[None])[0, 0])


def test_a_grouped_convolution_is_not_taken_for_a_plain_one(capsys):
    """The engines compute plain convolutions: a conv with groups=2 is named, and `auto` runs eager."""
    cfg = tiny_config("1")
    torch.manual_seed(0)
    g = Generator(cfg)
    g.conv_pre = nn.Conv1d(cfg.num_mels, cfg.upsample_initial_channel, 7, 1, padding=3, groups=2)
    with pytest.raises(HifiganError, match=r"^backend fused does not implement conv1d\(groups=2\) \(conv_pre\)"):
        Vocoder(g, cfg, backend="fused")
    with pytest.warns(RuntimeWarning, match=r"conv1d\(groups=2\) \(conv_pre\); running eager$"):
        vocoder = Vocoder(g, cfg)
    assert vocoder.backend == "eager" and capsys.readouterr().err == ""


class _HalfBlock(ResBlock1):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * super().forward(x)


@pytest.mark.parametrize(("change", "kind", "where"), [
    ("block", "_HalfBlock.forward", "resblocks.0"), ("conv_pre", "Sequential", "conv_pre"),
])
def test_a_block_of_its_own_or_a_module_in_a_convs_place_is_named(change, kind, where):
    """A residual block overriding forward, or a module that is no convolution where one was: the engines refuse
    it in one line, built through Vocoder or directly (FusedGenerator), and eager runs it as it is."""
    cfg = tiny_config("1")
    torch.manual_seed(0)
    g = Generator(cfg)
    if change == "block":
        g.resblocks[0] = _HalfBlock(cfg.upsample_initial_channel // 2, cfg.resblock_kernel_sizes[0],
                                    tuple(cfg.resblock_dilation_sizes[0]))
    else:
        g.conv_pre = nn.Sequential(g.conv_pre)
    message = f"backend fused does not implement {kind} ({where}); backend eager runs any generator"
    for build in (lambda: Vocoder(g, cfg, backend="fused"), lambda: FusedGenerator(g)):
        with pytest.raises(HifiganError) as info:
            build()
        assert str(info.value) == message
    mel = torch.randn(cfg.num_mels, 9) - 2
    with torch.inference_mode():
        assert torch.equal(Vocoder(g, cfg, backend="eager")(mel), g(mel[None])[0, 0])


@pytest.mark.parametrize(("options", "kind"), [
    ({"bias": False}, "conv1d(no bias)"), ({"padding_mode": "reflect"}, "conv1d(padding_mode=reflect)"),
    ({"groups": 2, "bias": False}, "conv1d(groups=2, no bias)"),
])
def test_a_convolution_without_bias_or_zero_padding_is_not_taken_for_a_plain_one(options, kind):
    cfg = tiny_config("1")
    g = Generator(cfg)
    g.conv_pre = nn.Conv1d(cfg.num_mels, cfg.upsample_initial_channel, 7, 1, padding=3, **options)
    plain = frozenset({"conv1d", "conv_transpose1d", "leaky_relu", "output tanh"})
    assert Generator(cfg).layers().missing(plain) is None
    assert g.layers().missing(plain) == (kind, "conv_pre")


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
    snake = _same_weights(_SnakeGenerator, cfg)
    for fmt in ("onnx", "torchscript"):  # the exported file would hold the fused form: refused, nothing written
        with pytest.raises(HifiganError) as info:
            export_generator(g, fmt, tmp_path / f"g.{fmt}")
        assert str(info.value) == ("cannot export Generator: the file holds the fused generator, which does not "
                                   "implement output Hardtanh (output_activation); Vocoder(backend='eager') runs this "
                                   "generator in Python")  # export has no backend to choose: no `backend eager` advice
        with pytest.raises(HifiganError, match=r"^cannot export _SnakeGenerator: .* implement _Snake \(resblocks"):
            export_generator(snake, fmt, tmp_path / f"g.{fmt}")
    assert list(tmp_path.iterdir()) == []


def test_one_backend_list_for_the_cli():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    assert tuple(next(a for a in sub["vocode"]._actions if a.dest == "backend").choices) == BACKENDS
    assert next(a for a in sub["bench"]._actions if a.dest == "backends").default is None  # by --device:
    assert device_backends("cpu") == tuple(b for b in BENCH_BACKENDS if b not in CUDA_ONLY)
    assert device_backends("cuda") == tuple(b for b in BENCH_BACKENDS if b not in CPU_ONLY)
    assert BENCH_BACKENDS == tuple(b for b in BACKENDS if b != "auto")
