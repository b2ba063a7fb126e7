"""Exact streaming: chunked output equals one-shot vocoding; the receptive field is exactly what the net reads."""

import itertools
import json
import re
import weakref

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.inference import Vocoder
from hifigan.inference.streaming import AUTO_CHUNK_FRAMES, ReceptiveField, latency_ms, receptive_field, split_frames
from hifigan.models import Generator
from tests.support.tiny import odd_rate_config, tiny_config

TOL = 1e-4
EXACT = 1e-14  # float64 rounding (tests/inference/test_exactness.py)


def _vocoder(cfg, backend="onnx", seed=0):
    torch.manual_seed(seed)
    return Vocoder(Generator(cfg), cfg, backend=backend)


def _measured_field(vocoder, frames=41):
    """Which output frames change when one input frame in the middle changes: the empirical receptive field."""
    mel = torch.randn(vocoder.config.num_mels, frames) - 3
    poked = mel.clone()
    poked[:, frames // 2] += 5.0
    diff = (vocoder(poked) - vocoder(mel)).abs().reshape(frames, vocoder.hop_size).amax(dim=1)
    changed = torch.nonzero(diff > 0).flatten()
    # output frame f reads input frames [f - left, f + right]; so frame c affects outputs [c - right, c + left]
    return ReceptiveField(left=int(changed.max()) - frames // 2, right=frames // 2 - int(changed.min()))


def test_receptive_field_of_official_configs():
    assert receptive_field(load_config("v1")) == ReceptiveField(13, 13)
    assert receptive_field(load_config("v2")) == ReceptiveField(13, 13)
    assert receptive_field(load_config("v3")) == ReceptiveField(11, 11)
    assert receptive_field(load_config("pwg-24k")) == ReceptiveField(19, 19)
    assert receptive_field(load_config("audiosr-48k")) == ReceptiveField(22, 22)


def test_latency_is_the_look_ahead_at_the_configs_own_hop():
    """What `hifigan bench` reports: the look-ahead frames' audio, frames x hop / sampling rate."""
    assert latency_ms(load_config("v1")) == pytest.approx(1000 * 13 * 256 / 22050)  # 150.9 ms
    assert latency_ms(load_config("pwg-24k")) == pytest.approx(1000 * 19 * 300 / 24000)  # 237.5 ms
    assert latency_ms(load_config("audiosr-48k")) == pytest.approx(1000 * 22 * 480 / 48000)  # 220 ms
    assert latency_ms(odd_rate_config("h200")) == pytest.approx(1000 * 20 * 200 / 16000)  # ahead 20, back 19


@pytest.mark.parametrize("cfg", [tiny_config("1"), tiny_config("2"), load_config("v3")], ids=["tiny1", "tiny2", "v3"])
def test_receptive_field_is_exactly_what_the_generator_reads(cfg):
    vocoder = _vocoder(cfg, backend="eager")
    assert _measured_field(vocoder) == receptive_field(cfg)


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 90), min_size=0, max_size=8), total=st.integers(1, 90),
       min_frames=st.integers(1, 12))
def test_stream_equals_one_shot(cuts, total, min_frames):
    """Any chunking, in float64: equal to rounding (test_exactness: one frame less context fails)."""
    vocoder = _STREAM_VOCODER
    gen = torch.Generator().manual_seed(total)
    mel = torch.randn(vocoder.config.num_mels, total, generator=gen, dtype=torch.float64)
    bounds = sorted({0, total, *(c for c in cuts if c < total)})
    chunks = [mel[:, a:b] for a, b in itertools.pairwise(bounds)]
    out = list(vocoder.stream(iter(chunks), min_frames=min_frames))
    assert torch.cat(out).shape == (total * vocoder.hop_size,)
    assert (torch.cat(out) - vocoder(mel)).abs().max() < EXACT
    assert all(len(a) >= min_frames * vocoder.hop_size for a in out[:-1])


torch.manual_seed(0)
_STREAM_VOCODER = Vocoder(Generator(tiny_config("1")).double(), tiny_config("1"), backend="eager")


def test_chunks_without_context_would_not_be_exact():
    """Why context is carried: vocoding chunks on their own leaves seams (the exact field is tested above)."""
    from hifigan.inference.streaming import stream

    vocoder = _STREAM_VOCODER
    mel = torch.randn(vocoder.config.num_mels, 60)
    out = torch.cat(list(stream(vocoder._run, split_frames(mel, 10), ReceptiveField(0, 0), vocoder.hop_size, 16)))
    assert (out - vocoder(mel)).abs().max() > 1e-3


def test_chunked_long_mel_and_real_config():
    vocoder = _STREAM_VOCODER
    mel = torch.randn(vocoder.config.num_mels, 3000, dtype=torch.float64)
    assert (vocoder.chunked(mel, 250) - vocoder(mel)).abs().max() < EXACT
    v3 = _vocoder(load_config("v3"), backend="fused")
    mel = torch.randn(80, 40) - 4
    assert (torch.cat(list(v3.stream(split_frames(mel, 9)))) - v3(mel)).abs().max() < TOL
    with pytest.raises(ValueError, match="mel chunk 0"):
        list(vocoder.stream([torch.zeros(3, 4)]))
    with pytest.raises(ValueError, match="chunk_frames"):
        vocoder.chunked(mel[:16], 0)


def test_vocode_stream_and_auto_chunking_match_one_shot(tmp_path):
    cfg = tiny_config("2")
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    write_checkpoint(ckpt, generator_payload(Generator(cfg).state_dict(), cfg))
    rng = np.random.default_rng(0)
    np.save(tmp_path / "short.npy", rng.standard_normal((cfg.num_mels, 300)).astype(np.float32) - 3)
    np.save(tmp_path / "long.npy", rng.standard_normal((cfg.num_mels, AUTO_CHUNK_FRAMES + 77)).astype(np.float32))
    vocoder = Vocoder.from_checkpoint(ckpt)
    # Streamed in chunks of the receptive field (7 frames: 43 of them) and in 43 longer ones over the long mel
    # (600 chunks of 7 there cost ~10 s and test nothing more); then one shot and auto-chunked without flags.
    runs = [(["--stream", "--chunk-frames", "7"], ["short"]), (["--stream", "--chunk-frames", "95"], ["long"]),
            ([], ["short", "long"])]
    for i, (flags, stems) in enumerate(runs):
        out = tmp_path / f"out{i}"
        assert main(["vocode", "-c", str(ckpt), "-o", str(out), *flags,
                     *(str(tmp_path / f"{stem}.npy") for stem in stems)]) == 0
        for stem in stems:
            expected = vocoder(np.load(tmp_path / f"{stem}.npy")).numpy()
            got = sf.read(out / f"{stem}.wav", dtype="float32")[0]
            assert got.shape == expected.shape
            assert np.abs(got - expected).max() <= 2 / 32768  # int16 quantisation of equal floats
    with pytest.raises(SystemExit) as refused:
        main(["vocode", "-c", str(ckpt), "-o", str(tmp_path / "x"), "--chunk-frames", "0", str(tmp_path / "short.npy")])
    assert refused.value.code == 2
    json.dumps(receptive_field(cfg).__dict__)


def _other_device() -> torch.device:
    """A device that is not the CPU: CUDA where there is one, else torch's lazy (TorchScript) device, which every
    CPU build has: mels an acoustic model leaves on its GPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    ts_backend = pytest.importorskip("torch._lazy.ts_backend")
    ts_backend.init()
    return torch.device("lazy")


def test_stream_takes_chunks_on_another_device():
    """Chunks on the acoustic model's device are gathered on the CPU, as a whole mel there is vocoded: same audio."""
    vocoder = _STREAM_VOCODER
    mel = torch.randn(vocoder.config.num_mels, 30, dtype=torch.float64)
    device = _other_device()
    chunks = [mel[:, a:b].to(device) for a, b in itertools.pairwise([0, 1, 3, 10, 30])]
    out = torch.cat(list(vocoder.stream(chunks)))
    assert out.device.type == "cpu" and out.shape == (30 * vocoder.hop_size,)
    assert (out - vocoder(mel)).abs().max() < EXACT


def test_a_stream_resumed_after_a_bad_chunk_is_exact():
    """docs/inference.md: a bad chunk ends the stream with the audio of n frames out; a new stream from frame
    n - left, its first `left` frames' audio dropped, completes the one-shot audio."""
    vocoder = _STREAM_VOCODER
    mel = torch.randn(vocoder.config.num_mels, 40, dtype=torch.float64)
    bad = mel[:, 20:25].clone()
    bad[0, 0] = float("nan")
    out = []
    with pytest.raises(ValueError, match=r"^mel chunk 1: mel contains non-finite values"):
        out.extend(vocoder.stream([mel[:, :20], bad]))
    hop, left = vocoder.hop_size, vocoder.receptive_field.left
    n = sum(len(a) for a in out) // hop
    assert n == 20 - vocoder.receptive_field.right
    rest = torch.cat(list(vocoder.stream([mel[:, n - left : 30], mel[:, 30:]])))[left * hop :]
    assert (torch.cat([*out, rest]) - vocoder(mel)).abs().max() < EXACT


@pytest.mark.parametrize("convention", [None, "log10"])
def test_a_chunk_of_the_wrong_shape_is_one_message_with_or_without_a_convention(convention):
    """The shape error of a whole mel, naming the chunk, whether the chunk is converted first or not."""
    torch.manual_seed(0)
    cfg = tiny_config("1")
    vocoder = Vocoder(Generator(cfg), cfg, backend="eager").set_mel_convention(convention)
    for bad, shape in [(torch.zeros(15, 5), "(15, 5)"), (torch.zeros(2, 16, 5), "(2, 16, 5)"),
                       (torch.zeros(1, 15, 5), "(1, 15, 5)")]:
        with pytest.raises(ValueError) as caught:
            list(vocoder.stream([torch.zeros(16, 3) - 4, bad]))
        assert str(caught.value) == f"mel chunk 1: expected a mel of shape [16, T] or [1, 16, T], got {shape}"


@pytest.mark.parametrize("convention", [None, "log10", "transposed"])
def test_a_chunk_may_be_a_batch_of_one_as_the_server_takes_it(convention):
    """[1, num_mels, n] chunks (an acoustic model's batch-of-one output), mixed with [num_mels, n] ones, stream the
    one-shot audio, with or without a convention ([1, n, num_mels] under 'transposed'), as /v1/stream takes them."""
    torch.manual_seed(0)
    cfg = tiny_config("1")
    vocoder = Vocoder(Generator(cfg).double(), cfg, backend="eager").set_mel_convention(convention)
    mel = torch.randn(cfg.num_mels, 20, dtype=torch.float64) - 4
    given = mel.T if convention == "transposed" else mel
    chunks = given.split([3, 0, 5, 12], dim=0 if convention == "transposed" else 1)
    out = torch.cat(list(vocoder.stream(c[None] if i % 2 == 0 else c for i, c in enumerate(chunks))))
    expected = vocoder(given)
    assert out.shape == (20 * vocoder.hop_size,)
    assert (out - expected).abs().max() < EXACT


@pytest.mark.parametrize("chunk_frames", [0, -3, 2.5, None, "4", True])
def test_chunk_frames_is_an_integer_of_at_least_one_checked_at_the_call(chunk_frames):
    """split_frames (and chunked, which uses it) refuse True (which cut a mel into 1-frame chunks), floats and
    strings with values.integer's one-line ValueError, when called rather than at the first chunk."""
    message = rf"^chunk_frames must be an integer >= 1, got {re.escape(repr(chunk_frames))}$"
    with pytest.raises(ValueError, match=message):
        split_frames(torch.zeros(16, 3), chunk_frames)
    with pytest.raises(ValueError, match=message):
        _STREAM_VOCODER.chunked(torch.zeros(16, 3), chunk_frames)
    assert [c.shape[1] for c in split_frames(torch.zeros(16, 7), 3)] == [3, 3, 1]


@pytest.mark.parametrize("min_frames", [0, -3, 2.5, None, "4", True])
def test_min_frames_is_an_integer_of_at_least_one_checked_at_the_call(min_frames):
    """As chunked's chunk_frames: a one-line ValueError when stream() is called, not a TypeError (or nothing) later."""
    with pytest.raises(ValueError, match=rf"^min_frames must be an integer >= 1, got {min_frames!r}$"):
        _STREAM_VOCODER.stream([torch.zeros(16, 3)], min_frames=min_frames)


def test_chunks_that_require_grad_are_not_kept_by_the_stream():
    """An acoustic model's output outside no_grad: the stream buffers its values, not its autograd graph (which
    grew by every chunk, ~10 KB each, holding each chunk's inputs for the whole stream); the audio is the same."""
    vocoder = _STREAM_VOCODER
    weight = torch.nn.Parameter(torch.ones((), dtype=torch.float64))
    mel = torch.randn(vocoder.config.num_mels, 60, dtype=torch.float64)
    inputs = []

    def chunks():
        for i in range(60):
            frame = mel[:, i : i + 1].clone()
            inputs.append(weakref.ref(frame))
            yield frame * weight  # requires grad; the product's grad_fn holds `frame`

    audio = vocoder.stream(chunks())
    out = [next(audio) for _ in range(40)]  # frames [0, 40) out, 48 pushed: all but the last left + right held
    assert all(ref() is None for ref in inputs[:20])
    out.extend(audio)
    assert not any(a.requires_grad for a in out)
    assert (torch.cat(out) - vocoder(mel)).abs().max() < EXACT
