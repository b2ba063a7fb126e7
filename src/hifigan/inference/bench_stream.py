"""The streaming line of `hifigan bench`: per-chunk compute time of `Vocoder.stream` (a mel chunk's: the windows
its arrival releases), measured as the one-shot rows are (bench.py): after untimed warm-up passes, so that a first
call's setup (oneDNN primitives, cuDNN plans, a backend's own first-call work) is not a chunk's figure, and over
enough chunks for a median to mean something. Both report the same median of repeated timings (upper_median).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from hifigan.inference.streaming import reported_ms, split_frames
from hifigan.inference.vocoder import Vocoder
from hifigan.messages.plural import count

WARM_UP_PASSES = 1  # untimed runs before any timed one: each one-shot backend's and the stream's
MIN_TIMED_CHUNKS = 16  # a short input (few chunks per pass) is streamed again until at least this many are timed


def upper_median(values: Sequence[float]) -> float:
    """The median bench reports of repeated timings (and page-fault counts): of an even count, the upper middle
    value, so that it is always one that was measured."""
    return sorted(values)[len(values) // 2]


def stream_chunk_times(vocoder: Vocoder, mel: torch.Tensor, chunk_frames: int,
                       min_chunks: int = MIN_TIMED_CHUNKS) -> tuple[list[float], int]:
    """Seconds each mel chunk of `vocoder.stream` over `mel` in `chunk_frames`-frame chunks takes to vocode
    (_timed_pass), and the number of timed passes: WARM_UP_PASSES untimed passes first, then whole passes until
    `min_chunks` chunks are timed."""
    for _ in range(WARM_UP_PASSES):
        for _ in vocoder.stream(split_frames(mel, chunk_frames)):
            pass
    times: list[float] = []
    passes = 0
    while len(times) < min_chunks:
        passes += 1
        times += _timed_pass(vocoder, mel, chunk_frames)
    return times, passes


def _timed_pass(vocoder: Vocoder, mel: torch.Tensor, chunk_frames: int) -> list[float]:
    """One pass: per mel chunk that releases audio, the seconds of the windows its arrival computes. A stream gives
    one window a chunk and a last one when its input ends (the look-ahead frames), which belongs to the last chunk:
    a mel of one chunk gives two windows, one chunk's time. A chunk that releases nothing (its frames wait for their
    look-ahead) is vocoded with the next one's window. The source yields at once, so a window's next() is its
    compute."""
    pulled = 0  # mel chunks the stream has taken

    def source() -> Iterator[torch.Tensor]:
        nonlocal pulled
        for chunk in split_frames(mel, chunk_frames):
            pulled += 1
            yield chunk

    spent: dict[int, float] = {}  # chunk number -> seconds of the windows it released
    windows = vocoder.stream(source())
    while True:  # each window's own next(): the time between reads excludes the loop's bookkeeping
        start = time.perf_counter()
        window = next(windows, None)
        end = time.perf_counter()
        if window is None:
            return list(spent.values())
        spent[pulled] = spent.get(pulled, 0.0) + end - start


def stream_info(vocoder: Vocoder, mel: torch.Tensor, chunk_frames: int) -> dict[str, Any]:
    """The streaming figures of `vocoder` (bench's `auto`): chunk length, look-ahead and left context, and the median
    and max per-chunk time with the count of chunks and passes they are over. A mel shorter than `chunk_frames` is
    streamed as one chunk, and the figures say so: its length is the chunk's (`chunk_frames`), the one asked for
    `asked_chunk_frames`."""
    cfg, field = vocoder.config, vocoder.receptive_field
    chunk = min(chunk_frames, mel.shape[-1])
    times, passes = stream_chunk_times(vocoder, mel, chunk)
    asked = {"asked_chunk_frames": chunk_frames} if chunk < chunk_frames else {}
    return {
        "backend": vocoder.backend, "chunk_frames": chunk, **asked,
        "chunk_audio_ms": reported_ms(cfg.frames_ms(chunk)),
        "lookahead_frames": field.right, "left_context_frames": field.left,
        "algorithmic_latency_ms": reported_ms(cfg.frames_ms(field.right)),
        "per_chunk_ms_median": reported_ms(1000 * upper_median(times)),
        "per_chunk_ms_max": reported_ms(1000 * max(times)),
        "timed_chunks": len(times), "timed_passes": passes, "warm_up_passes": WARM_UP_PASSES,
    }


def stream_text(s: dict[str, Any]) -> str:
    """The summary's streaming sentence."""
    over = ""
    if "timed_chunks" in s:  # results written before the warm-up pass have no counts
        over = (f" (over {count(s['timed_chunks'], 'chunk')} in {count(s['timed_passes'], 'pass', 'passes')}, "
                f"after {s['warm_up_passes']} untimed)")
    whole = ""
    if "asked_chunk_frames" in s:  # the mel was shorter than the chunk asked for: it was streamed whole
        whole = f"; the whole mel, shorter than the {s['asked_chunk_frames']} frames asked"
    return (f"Streaming: look-ahead {count(s['lookahead_frames'], 'frame')} ({s['algorithmic_latency_ms']} ms), left "
            f"context {count(s['left_context_frames'], 'frame')}; {s['chunk_frames']}-frame chunks "
            f"({s['chunk_audio_ms']} ms of audio{whole}) take {s['per_chunk_ms_median']} ms median / "
            f"{s['per_chunk_ms_max']} ms max to vocode{over}.")
