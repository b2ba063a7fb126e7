"""Exactness in float64: every engine, `stream()`, `chunked()` and `batch()` reproduce one-shot eager vocoding to
float64 rounding, and one frame less context on either side makes them fail.

Float32 cannot check this: the farthest of V1's 13 context frames moves the output by ~1e-12 of its size,
below float32 rounding. In float64 it stands out, once the output is at speech level: random weights give a
tiny output (std ~0.003 for V1), so each shape's mel is scaled until the output std is ~0.1 (`_scale`). Then V1's
farthest frame moves the output by >= 4e-14, rounding by <= 2e-15 (measured over seeds), and EXACT sits between.
V1 and V3 keep their kernels, dilations and upsampling rates (hence their receptive fields), with 32 channels.
h200, h300 and h480 are odd upsampling geometries (tiny.ODD_RATES: output padding, and for h200 a look-ahead one
frame longer than the past) with short residual blocks (V3's, tiny1's): with their presets' blocks the farthest
frames move the output by less than float64 rounding (h200's last look-ahead frame: a derivative ~1e-25 of the
middle frame's), so only their fields' description is checked there (test_layers, by derivative).
"""

from __future__ import annotations

import functools
import itertools

import pytest
import torch

from hifigan.config import HifiganConfig, config_from_dict, load_config
from hifigan.errors import HifiganError
from hifigan.inference.engines import build_runner
from hifigan.inference.streaming import ReceptiveField, receptive_field
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from tests.support.threads import two_threads
from tests.support.tiny import odd_rate_config, tiny_config

EXACT = 1e-14
pytestmark = pytest.mark.usefixtures("single_thread")  # float64 convolutions are slow; threads fight on 2 cores


def _narrow(name: str) -> HifiganConfig:
    return config_from_dict({**load_config(name).to_dict(), "upsample_initial_channel": 32})


V3_BLOCKS = dict(resblock="2", resblock_kernel_sizes=[3, 5, 7], resblock_dilation_sizes=[[1, 2], [2, 6], [3, 12]])
TINY1_BLOCKS = dict(resblock="1", resblock_kernel_sizes=[3, 5], resblock_dilation_sizes=[[1, 3], [1, 3]])
SHAPES = {"tiny1": tiny_config("1"), "tiny2": tiny_config("2"), "v1": _narrow("v1"), "v3": _narrow("v3"),
          "h200": odd_rate_config("h200", **V3_BLOCKS), "h300": odd_rate_config("h300", **TINY1_BLOCKS),
          "h480": odd_rate_config("h480", **TINY1_BLOCKS)}
# ONNX Runtime has no float64 conv
FLOAT64_BACKENDS = ("eager", "fused", "fused-split", "invariant", "jit", "tiled", "tiled-split")


GAIN, DIRECTION = "parametrizations.weight.original0", "parametrizations.weight.original1"  # weight norm's g, v


@functools.cache
def _state(name: str) -> dict[str, torch.Tensor]:
    """Seeded weights whose weight-norm gains are not the directions' norms (a fresh layer's g is ||v||, so the
    folding would do nothing): each g scaled by its own factor in [0.5, 2], as a trained checkpoint's are."""
    torch.manual_seed(0)
    state = Generator(SHAPES[name]).double().state_dict()
    for key in [k for k in state if k.endswith(GAIN)]:
        state[key] = state[key] * (0.5 + 1.5 * torch.rand(state[key].shape, dtype=torch.float64))
    return state


def _generator(name: str) -> Generator:
    """The shape's float64 generator, weight norm still parametrized (as loaded from a checkpoint)."""
    g = Generator(SHAPES[name]).double()
    g.load_state_dict(_state(name))
    return g


@functools.cache
def _plain(name: str) -> Generator:
    """The reference: the plain eager generator in float64, each weight folded here by hand, w = g v / ||v|| (the
    norm over every dimension but the first, torch's and the official weight_norm(dim=0))."""
    plain = _generator(name).eval().remove_weight_norm()
    state, weights = _state(name), {}
    for key in [k for k in state if k.endswith(DIRECTION)]:
        g, v = state[key.replace(DIRECTION, GAIN)], state[key]
        weights[key.replace(DIRECTION, "weight")] = g * v / v.flatten(1).norm(dim=1).view(-1, *[1] * (v.dim() - 1))
    plain.load_state_dict({**plain.state_dict(), **weights})
    return plain


def _unscaled(name: str, *shape: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape[:-1], SHAPES[name].num_mels, shape[-1], dtype=torch.float64, generator=gen) - 4


@functools.cache
def _scale(name: str) -> float:
    """The mel scale that brings the reference's output std to ~0.1 (three steps of the ratio: nearly linear)."""
    mel, scale = _unscaled(name, 1, 40), 1.0
    with torch.inference_mode():
        for _ in range(3):
            scale *= 0.1 / float(_plain(name)(scale * mel).std())
    return scale


def _mel(name: str, *shape: int, seed: int = 0) -> torch.Tensor:
    return _scale(name) * _unscaled(name, *shape, seed=seed)


@functools.cache
def _case(name: str, split: bool, rows: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of `rows` mels (long enough to be split in time when `split`) and its one-shot audio."""
    mel = _mel(name, rows, _split_frames(name) if split else 40, seed=1)
    return mel, _one_shot(name, mel)


def _one_shot(name: str, mel: torch.Tensor) -> torch.Tensor:
    """[num_mels, T] -> [T * hop] or [B, num_mels, T] -> [B, T * hop] by the reference."""
    with torch.inference_mode():
        out = _plain(name)(mel if mel.dim() == 3 else mel[None])[:, 0]
    return out if mel.dim() == 3 else out[0]


def _shortened(field: ReceptiveField) -> list[ReceptiveField]:
    return [ReceptiveField(field.left - 1, field.right), ReceptiveField(field.left, field.right - 1)]


def _split_frames(name: str) -> int:
    """Long enough for two time-split pieces (the split needs 4 x (left + right) + 1 frames per piece)."""
    field = receptive_field(SHAPES[name])
    return 2 * (4 * (field.left + field.right) + 1) + 5


@pytest.mark.parametrize("backend", FLOAT64_BACKENDS)
@pytest.mark.parametrize("name", list(SHAPES))
def test_every_engine_is_exact_in_float64(name, backend):
    cfg = SHAPES[name]
    with two_threads():
        vocoder = Vocoder(_generator(name), cfg, backend=backend)
    mel, expected = _case(name, split=backend.endswith("-split") or backend == "invariant")
    got = vocoder(mel)
    assert got.dtype == torch.float64 and got.shape == (2, mel.shape[-1] * cfg.hop_size)
    assert (got - expected).abs().max() < EXACT


@pytest.mark.parametrize("backend", ["fused-split", "invariant", "tiled-split"])
@pytest.mark.parametrize("name", list(SHAPES))
def test_split_engines_need_their_whole_context(name, backend):
    """One row: the context is each time piece's (rows and pieces together: test_every_engine_is_exact_in_float64)."""
    cfg = SHAPES[name]
    with two_threads():
        runner = build_runner(_plain(name), backend, torch.device("cpu"))
    mel, expected = _case(name, split=True, rows=1)
    with torch.inference_mode():
        assert runner.field == receptive_field(cfg)
        assert (runner(mel)[:, 0] - expected).abs().max() < EXACT
        for short in _shortened(receptive_field(cfg)):
            runner.field = short
            assert (runner(mel)[:, 0] - expected).abs().max() > EXACT, short


def test_onnx_split_equals_onnx_and_needs_its_whole_context():
    """ONNX Runtime runs float32 only; there one frame less context is visible on tiny2 (2e-4), not on V1
    (below float32 rounding). ONNX Runtime computes each output sample the same way at any length, so the
    split equals the whole run (measured: bit for bit). The split itself is the one fused-split uses."""
    cfg = tiny_config("2")
    g = Generator(cfg).eval().remove_weight_norm()
    whole = build_runner(g, "onnx", torch.device("cpu"))
    with two_threads():
        split = build_runner(g, "onnx-split", torch.device("cpu"))
    field = receptive_field(cfg)
    mel = torch.randn(2, cfg.num_mels, 2 * (4 * (field.left + field.right) + 1)) - 4
    expected = whole(mel)
    assert (split(mel) - expected).abs().max() < 1e-6
    for short in _shortened(field):
        split.field = short
        assert (split(mel) - expected).abs().max() > 1e-5, short
    for backend in ("onnx", "onnx-split"):
        with pytest.raises(HifiganError, match=f"backend {backend} runs float32 only"):
            Vocoder(_generator("tiny2"), cfg, backend=backend)


def test_onnx_keeps_odd_rates_in_float32():
    """ONNX Runtime runs float32 only: odd rates (h300: three stages with output padding; test_export exports
    h480) give the same lengths, and eager's float64 output to float32 rounding (measured: <= 3e-7), whole (a
    short input: onnx itself) and split."""
    name = "h300"
    cfg = SHAPES[name]
    with two_threads():
        vocoder = Vocoder(_generator(name).float(), cfg, backend="onnx-split")
    for split in (False, True):
        mel, expected = _case(name, split)
        got = vocoder(mel.float())
        assert got.dtype == torch.float32 and got.shape == (2, mel.shape[-1] * cfg.hop_size)
        assert (got - expected).abs().max() < 2e-6


def _mixed_chunks(total: int) -> list[int]:
    """Chunk sizes covering `total` frames, small and large mixed."""
    sizes, done = [], 0
    for size in itertools.cycle([5, 1, 2, 13, 3, 40]):
        if done + size >= total:
            return [*sizes, total - done]
        sizes.append(size)
        done += size


@pytest.mark.parametrize("name", list(SHAPES))
def test_stream_and_chunked_are_exact_and_need_their_whole_context(name):
    """(Arbitrary chunkings of tiny1 are explored in test_streaming; the real shapes are slow in float64.)"""
    cfg = SHAPES[name]
    vocoder = Vocoder(_generator(name), cfg, backend="eager")
    field = vocoder.receptive_field
    total = 2 * (field.left + field.right) + 9
    mel = _mel(name, total, seed=2)
    expected = _one_shot(name, mel)

    chunk_sizes = [_mixed_chunks(total), [total]] + ([[1] * total] if name.startswith("tiny") else [])
    for sizes in chunk_sizes:
        chunks = [mel[:, a:b] for a, b in itertools.pairwise(itertools.accumulate(sizes, initial=0))]
        for min_frames in (1, 4):
            got = torch.cat(list(vocoder.stream(iter(chunks), min_frames=min_frames)))
            assert got.dtype == torch.float64 and got.shape == expected.shape
            assert (got - expected).abs().max() < EXACT, (sizes, min_frames)
    assert (vocoder.chunked(mel, 7) - expected).abs().max() < EXACT
    for short in _shortened(field):  # chunked() is stream() with min_frames = chunk_frames
        vocoder.receptive_field = short
        assert (vocoder.chunked(mel, 7) - expected).abs().max() > EXACT, short


@pytest.mark.parametrize("name", list(SHAPES))
def test_batch_is_exact_and_needs_its_whole_context(name):
    """Mels laid end to end give every frame but those within `left` after an inner boundary and `right` before
    it, which come from edge windows of their own mel (hifigan.inference.packing): exact, and one frame less of
    context on either side is not."""
    cfg = SHAPES[name]
    vocoder = Vocoder(_generator(name), cfg, backend="eager")
    field = vocoder.receptive_field
    longest = 2 * (field.left + field.right) + 9
    lengths = [longest, longest - 3, field.left + field.right + 4, 5, 1]
    mels = [_mel(name, n, seed=n) for n in lengths]
    expected = [_one_shot(name, m) for m in mels]

    def worst() -> float:
        outs = vocoder.batch(mels)
        assert [o.shape[0] for o in outs] == [n * cfg.hop_size for n in lengths]
        return max(float((o - e).abs().max()) for o, e in zip(outs, expected))

    assert worst() < EXACT
    for short in (ReceptiveField(field.left - 1, field.right), ReceptiveField(field.left, field.right - 1)):
        vocoder.receptive_field = short
        assert worst() > EXACT, short
