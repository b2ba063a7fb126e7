"""Inference of a generator without a layer description (`IstftGenerator`, tests/support/istft_generator.py): `Vocoder`
runs it eagerly and says so in one line (naming an engine is a one-line error), and streams, batches and chunks it
exactly in float64 with its declared or its measured receptive field (one frame less fails). What cannot be
streamed exactly (not shift-equivariant at the hop, no finite field, a wrong length) or exported (a forward that
does not trace) is refused in one line."""

from __future__ import annotations

import itertools
import re

import pytest
import torch
from torch import nn

from hifigan import Vocoder
from hifigan.errors import HifiganError
from hifigan.inference.choices import device_backends
from hifigan.inference.export import export_generator
from hifigan.inference.streaming import latency_ms, receptive_field
from hifigan.models.layers import ReceptiveField
from hifigan.models.receptive_field import declared_field, generator_field, measure_field
from tests.support.istft_generator import (
    FIELD,
    DeclaringIstftGenerator,
    IstftGenerator,
    istft_config,
    registered,
    seeded_mel,
)
from tests.support.tiny import tiny_config

pytestmark = [pytest.mark.usefixtures("single_thread"),
              pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")]

EXACT = 1e-13  # float64 rounding, relative to the output's largest sample
ENGINES = tuple(b for b in device_backends("cpu") if b != "eager")


@pytest.fixture(autouse=True)
def _registered():
    with registered():
        yield


@pytest.mark.parametrize("backend", ENGINES)
def test_naming_an_engine_for_a_generator_without_layers_is_a_one_line_error(backend):
    cfg = istft_config()
    with pytest.raises(HifiganError) as info:
        Vocoder(IstftGenerator(cfg), cfg, backend=backend)
    assert str(info.value) == (f"backend {backend} cannot run IstftGenerator: it has no layer description (layers()) "
                               "for an engine to follow; backend eager runs any generator")


def test_naming_eager_says_where_the_field_comes_from(capsys):
    cfg = istft_config("istft-declared")
    with pytest.warns(RuntimeWarning) as caught:
        vocoder = Vocoder(DeclaringIstftGenerator(cfg), cfg, backend="eager")
    assert [str(w.message) for w in caught] == ["DeclaringIstftGenerator has no layer description (layers()); running "
                                                "eager, receptive field 5 past + 5 future frames (declared)"]
    assert caught[0].filename == __file__ and capsys.readouterr().err == ""
    assert vocoder.layers is None and vocoder.receptive_field == FIELD


def test_the_field_of_a_config_comes_through_the_registry():
    assert receptive_field(istft_config()) == receptive_field(istft_config("istft-declared")) == FIELD
    assert latency_ms(istft_config()) == pytest.approx(1000 * 5 * 16 / 8000)
    cfg = istft_config()
    generator = IstftGenerator(cfg)
    assert receptive_field(generator, cfg) == FIELD
    with pytest.raises(HifiganError, match="IstftGenerator neither describes its layers nor declares its receptive "
                                           "field: give its config to measure it"):
        receptive_field(generator)


def _mixed_chunks(total: int) -> list[int]:
    sizes, done = [], 0
    for size in itertools.cycle([5, 1, 2, 13, 3]):
        if done + size >= total:
            return [*sizes, total - done]
        sizes.append(size)
        done += size


@pytest.mark.parametrize("cls", [IstftGenerator, DeclaringIstftGenerator])
def test_stream_chunked_and_batch_are_exact_in_float64_and_need_the_whole_field(cls):
    """Declared or measured, the field is what the generator reads: one frame less context on either side fails."""
    cfg = istft_config()
    torch.manual_seed(0)
    generator = cls(cfg).double()
    with torch.inference_mode():
        reference = generator.eval()(seeded_mel(40)[None])  # weight norm kept: the function itself
    vocoder = Vocoder(generator, cfg, backend="eager")
    assert vocoder.receptive_field == FIELD

    def one_shot(mel):
        with torch.inference_mode():
            return vocoder.generator(mel[None])[0, 0]

    def off(got, expected) -> float:
        return float((got - expected).abs().max()) / float(expected.abs().max())

    mel = seeded_mel(40)
    expected = one_shot(mel)
    assert off(vocoder(mel), reference[0, 0]) < 1e-12 and vocoder(mel).dtype == torch.float64
    for sizes in (_mixed_chunks(40), [40], [1] * 40):
        chunks = [mel[:, a:b] for a, b in itertools.pairwise(itertools.accumulate(sizes, initial=0))]
        for min_frames in (1, 4):
            assert off(torch.cat(list(vocoder.stream(iter(chunks), min_frames=min_frames))), expected) < EXACT
    assert off(vocoder.chunked(mel, 7), expected) < EXACT
    lengths = [40, 37, 14, 5, 1]
    mels = [seeded_mel(n, seed=n) for n in lengths]
    outs = vocoder.batch(mels)
    assert [len(o) for o in outs] == [16 * n for n in lengths]
    assert max(off(o, one_shot(m)) for o, m in zip(outs, mels)) < EXACT

    for short in (ReceptiveField(FIELD.left - 1, FIELD.right), ReceptiveField(FIELD.left, FIELD.right - 1)):
        vocoder.receptive_field = short
        assert off(vocoder.chunked(mel, 7), expected) > 1e-6, short
    vocoder.receptive_field = ReceptiveField(FIELD.left - 1, FIELD.right)
    assert max(off(o, one_shot(m)) for o, m in zip(vocoder.batch(mels), mels)) > 1e-6


# ---------------------------------------------------------------- what the measurement and the export refuse


class _Ramp(nn.Module):
    """Frames x hop samples, but a ramp over the output's own time: a frame's audio depends on where it sits."""

    def __init__(self, config) -> None:
        super().__init__()
        self.hop, self.conv = config.hop_size, nn.Conv1d(config.num_mels, config.hop_size, 3, padding=1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = self.conv(mel)  # [B, hop, T]
        ramp = torch.arange(frames.shape[-1], dtype=frames.dtype)
        return (frames + ramp).transpose(1, 2).reshape(mel.shape[0], 1, -1)


class _Global(_Ramp):
    """Every frame's audio reads the whole mel (its mean): no finite field."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = self.conv(mel) + mel.mean(dim=(1, 2), keepdim=True)
        return frames.transpose(1, 2).reshape(mel.shape[0], 1, -1)


class _Short(_Ramp):
    """One sample short."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.conv(mel).transpose(1, 2).reshape(mel.shape[0], 1, -1)[..., 1:]


class _LengthBranch(_Ramp):
    """A Python decision on the input length: a trace keeps the branch it saw."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        audio = self.conv(mel).transpose(1, 2).reshape(mel.shape[0], 1, -1)
        return audio if mel.shape[-1] > 20 else -audio


class _LengthShape(_Ramp):
    """A Python decision on the input length that changes the output's length: a trace keeps the one it saw."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        audio = self.conv(mel).transpose(1, 2).reshape(mel.shape[0], 1, -1)
        return audio if mel.shape[-1] > 20 else audio[..., :-1]


class _LengthScale(_Ramp):
    """A Python decision on the input length that scales the output by 1.01: close, but not the same audio."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        audio = self.conv(mel).transpose(1, 2).reshape(mel.shape[0], 1, -1)
        return audio if mel.shape[-1] > 20 else audio * 1.01


class _Causal(_Ramp):
    """Each frame's audio reads its own frame and the 39 before it: a field on one side only, wider than the first
    probe's half (16 frames)."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.conv = nn.Conv1d(config.num_mels, config.hop_size, 40)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = self.conv(torch.nn.functional.pad(mel, (39, 0)))
        return frames.transpose(1, 2).reshape(mel.shape[0], 1, -1)


class _Lookahead(_Causal):
    """Each frame's audio reads its own frame and the 39 after it: _Causal mirrored."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = self.conv(torch.nn.functional.pad(mel, (0, 39)))
        return frames.transpose(1, 2).reshape(mel.shape[0], 1, -1)


@pytest.mark.parametrize(("cls", "field"), [(_Causal, ReceptiveField(left=39, right=0)),
                                            (_Lookahead, ReceptiveField(left=0, right=39))])
def test_a_field_on_one_side_is_measured_whole(cls, field):
    """A probe whose edge the field reaches is too short, though the other edge is far: the next one measures."""
    cfg = tiny_config()
    assert measure_field(cls(cfg), cfg.num_mels, cfg.hop_size) == field


class _Stack(_Ramp):
    """Its convolution in a submodule named `layers` (an nn.ModuleList), but no layers() method."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.layers = nn.ModuleList([self.conv])

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.layers[0](mel).transpose(1, 2).reshape(mel.shape[0], 1, -1)


def test_a_submodule_named_layers_is_no_layer_description():
    cfg = tiny_config()
    assert generator_field(_Stack(cfg), cfg.num_mels, cfg.hop_size) == (ReceptiveField(1, 1), "measured")


class _Declaring(nn.Module):
    def __init__(self, field: object) -> None:
        super().__init__()
        self.field = field

    def receptive_field(self) -> object:
        return self.field


@pytest.mark.parametrize("field", [ReceptiveField(True, 5), ReceptiveField(5, -1), ReceptiveField(5.0, 5), (5, 5)])
def test_a_declared_field_must_be_two_integers_at_least_0(field):
    assert declared_field(_Declaring(ReceptiveField(0, 7))) == ReceptiveField(0, 7)
    with pytest.raises(HifiganError) as info:
        declared_field(_Declaring(field))
    assert str(info.value) == (f"generator _Declaring: receptive_field() must return a ReceptiveField of two integers "
                               f">= 0, got {field!r}")


@pytest.mark.parametrize(("cls", "message"), [
    (_Ramp, "generator _Ramp is not shift-equivariant at the hop (16 samples): a frame's audio changes when the mel "
            "shifts by one frame, so no exact window of it exists"),
    (_Global, "generator _Global: its receptive field reaches 256 frames or more, past what is measured; declare it "
              "(a receptive_field() method)"),
    (_Short, "generator _Short maps a mel of shape (2, 16, 32) to audio of shape (2, 1, 511); a generator gives "
             "[batch, 1, frames x hop_size] ((2, 1, 512))"),
])
def test_what_cannot_be_streamed_exactly_is_a_one_line_error(cls, message):
    cfg = tiny_config()
    with pytest.raises(HifiganError) as info:
        measure_field(cls(cfg), cfg.num_mels, cfg.hop_size)
    assert str(info.value) == message
    with pytest.raises(HifiganError, match=re.escape(message)):
        Vocoder(cls(cfg), cfg, backend="eager")


def test_a_forward_that_does_not_trace_is_refused_before_a_file_is_written(tmp_path):
    cfg = tiny_config()
    assert measure_field(_LengthBranch(cfg), 16, 16) == ReceptiveField(1, 1)  # it streams (probes are long)
    for fmt in ("torchscript", "onnx"):
        with pytest.raises(HifiganError, match=r"^_LengthBranch does not trace: traced at 32 frames, it computes "
                                               r"something else at 19"):
            export_generator(_LengthBranch(cfg), fmt, tmp_path / f"g.{fmt}", num_mels=16)
    with pytest.raises(HifiganError, match="exporting _LengthBranch needs num_mels"):
        export_generator(_LengthBranch(cfg), "torchscript", tmp_path / "g.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_trace_that_gives_another_length_is_refused_in_one_line(tmp_path):
    """The trace is checked at a second length by shape before values: a forward whose output length is a Python
    decision is the same one-line refusal, not an error from comparing tensors of two shapes."""
    with pytest.raises(HifiganError, match=r"^_LengthShape does not trace: traced at 32 frames, it computes "
                                           r"something else at 19"):
        export_generator(_LengthShape(tiny_config()), "torchscript", tmp_path / "g.pt", num_mels=16)
    assert list(tmp_path.iterdir()) == []


def test_a_trace_that_is_one_percent_off_at_another_length_is_refused(tmp_path):
    """The second-length check compares at the float32 tolerance (1e-4): a trace 1% off there is refused too."""
    with pytest.raises(HifiganError, match=r"^_LengthScale does not trace"):
        export_generator(_LengthScale(tiny_config()), "torchscript", tmp_path / "g.pt", num_mels=16)
    assert list(tmp_path.iterdir()) == []
