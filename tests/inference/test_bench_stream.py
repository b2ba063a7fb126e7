"""The streaming line of `hifigan bench` (hifigan.inference.bench_stream): what it times (each mel chunk, after a
warm-up pass, until enough chunks are timed) and how its sentence says it."""

from __future__ import annotations

import types

import pytest
import torch

import hifigan.inference.bench_stream as bench_stream
from hifigan.config import HifiganConfig
from hifigan.inference.bench_stream import MIN_TIMED_CHUNKS, stream_chunk_times, stream_info, stream_text
from hifigan.inference.streaming import split_frames
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.layers import ReceptiveField
from tests.support.istft_generator import DeclaringIstftGenerator
from tests.support.threads import threads
from tests.support.tiny import tiny_config


def _counted(monkeypatch) -> tuple[Vocoder, HifiganConfig, list[str]]:
    """A real eager tiny Vocoder whose every window (a generator forward) and every clock read bench_stream makes
    are listed in order; the clock reads the list's length, so a window between two reads takes 2."""
    cfg = tiny_config("2")
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg, "cpu", backend="eager")
    events: list[str] = []
    vocoder.generator.register_forward_hook(lambda *_: events.append("window"))
    monkeypatch.setattr(bench_stream, "time", types.SimpleNamespace(perf_counter=lambda: events.append("clock") or
                                                                    float(len(events))))
    return vocoder, cfg, events


def test_streaming_times_chunks_only_after_a_warm_up_pass(monkeypatch):
    """The streaming figure's structure, on a real eager tiny model: one whole untimed pass over the stream runs
    before the clock is first read, then whole passes are timed until MIN_TIMED_CHUNKS chunks are, each window's
    forward between two clock reads (and each pass's end one more pair, timed but no window); a chunk's time is
    its window's, the last chunk's with the stream's final window (its look-ahead)."""
    vocoder, cfg, events = _counted(monkeypatch)
    mel = torch.randn(cfg.num_mels, 40)
    with threads(1):
        windows_per_pass = len(list(vocoder.stream(split_frames(mel, 8))))
        events.clear()
        times, passes = stream_chunk_times(vocoder, mel, 8)
    first_clock = events.index("clock")
    assert windows_per_pass == 6 and events[:first_clock] == ["window"] * windows_per_pass  # the warm-up pass
    timed = events[first_clock:]
    assert timed.count("window") == passes * windows_per_pass and passes == 4  # 5 chunks a pass: 4 for 16
    assert times == [2.0, 2.0, 2.0, 2.0, 4.0] * passes  # each window: clock, window, clock
    assert timed[-4:] == ["window", "clock", "clock", "clock"]  # a pass ends with a next() of no window


def test_a_mel_of_one_chunk_is_one_timed_chunk_of_its_two_windows(monkeypatch):
    """A mel shorter than the chunk is streamed as one chunk, which gives two windows (the frames whose look-ahead
    it holds, then the rest when the input ends): each was counted as a chunk, so 16 "chunks" were 8 passes of one
    chunk and the median one of 3-frame and 7-frame windows. Now a chunk's time is both its windows'."""
    vocoder, cfg, events = _counted(monkeypatch)
    mel = torch.randn(cfg.num_mels, vocoder.receptive_field.right + 3)
    with threads(1):
        assert [len(a) for a in vocoder.stream([mel])] == [3 * cfg.hop_size, vocoder.receptive_field.right * 16]
        events.clear()
        info = stream_info(vocoder, mel, 32)
    assert (info["timed_chunks"], info["timed_passes"]) == (MIN_TIMED_CHUNKS,) * 2
    assert events.count("window") == 2 * (1 + MIN_TIMED_CHUNKS)  # the warm-up pass's too
    assert info["per_chunk_ms_median"] == info["per_chunk_ms_max"] == 4000.0  # two windows of 2 clock steps


def test_the_streaming_sentence_agrees_with_its_counts():
    """Counts of one read in the singular ("1 pass", "1 frame"), the others in the plural, as every message does."""
    figures = {"lookahead_frames": 1, "algorithmic_latency_ms": 0.1, "left_context_frames": 0, "chunk_frames": 3,
               "chunk_audio_ms": 0.4, "per_chunk_ms_median": 1.0, "per_chunk_ms_max": 1.2}
    one = stream_text({**figures, "timed_chunks": 16, "timed_passes": 1, "warm_up_passes": 1})
    assert one == ("Streaming: look-ahead 1 frame (0.1 ms), left context 0 frames; 3-frame chunks (0.4 ms of audio) "
                   "take 1.0 ms median / 1.2 ms max to vocode (over 16 chunks in 1 pass, after 1 untimed).")
    several = stream_text({**figures, "lookahead_frames": 2, "left_context_frames": 1, "timed_chunks": 1,
                           "timed_passes": 2, "warm_up_passes": 1})
    assert "look-ahead 2 frames (0.1 ms), left context 1 frame;" in several
    assert several.endswith("(over 1 chunk in 2 passes, after 1 untimed).")


def test_a_mel_shorter_than_the_streaming_chunk_is_reported_as_the_chunk_it_was():
    """`--seconds 0.01 --stream-chunk-frames 1000` streamed the 5-frame mel as one 5-frame chunk, but the figures said
    1000-frame chunks (2000 ms of audio): the time of a 5-frame window under a 400x longer chunk's name. The chunk
    streamed is reported, and the one asked for beside it; a chunk that fits is reported as it was asked."""
    cfg = tiny_config("2")
    torch.manual_seed(0)
    with threads(1):
        vocoder = Vocoder(Generator(cfg), cfg, backend="fused")
        mel = torch.full((cfg.num_mels, 5), -5.0)
        short = stream_info(vocoder, mel, 1000)
        fits = stream_info(vocoder, mel, 3)
    assert (short["chunk_frames"], short["asked_chunk_frames"], short["chunk_audio_ms"]) == (5, 1000, 10.0)
    assert "5-frame chunks (10.0 ms of audio; the whole mel, shorter than the 1000 frames asked)" in stream_text(short)
    assert (fits["chunk_frames"], fits["chunk_audio_ms"], "asked_chunk_frames" in fits) == (3, 6.0, False)
    assert "3-frame chunks (6.0 ms of audio) take" in stream_text(fits)


def test_the_streaming_figures_are_the_vocoders_own_generators():
    """The look-ahead and context were its config's generator's (built again from the config), not those of the
    generator the Vocoder runs: a generator given with a config that builds another one was reported by the other's
    field. Here the config builds the tiny HiFi-GAN (7 + 7 frames); the Vocoder runs an iSTFT generator declaring
    9 + 9."""
    cfg = tiny_config()
    with threads(1), pytest.warns(RuntimeWarning, match="no layer description"):
        vocoder = Vocoder(DeclaringIstftGenerator(cfg, blocks=6), cfg, backend="eager")
    assert vocoder.receptive_field == ReceptiveField(9, 9)
    with threads(1):
        info = stream_info(vocoder, torch.full((cfg.num_mels, 12), -5.0), 4)
    assert (info["lookahead_frames"], info["left_context_frames"]) == (9, 9)
    assert info["algorithmic_latency_ms"] == round(1000 * 9 * cfg.hop_size / cfg.sampling_rate, 1) == 18.0
