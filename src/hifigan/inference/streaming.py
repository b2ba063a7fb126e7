"""Exact chunked vocoding: carry the generator's receptive field as mel context, never cross-fade.

The generator is shift-equivariant at the frame rate, so the audio of frames [s, e) depends only on the
mel frames [s - left, e + right) (`receptive_field`: from the generator's layer description, its declaration, or
measured). Vocoding that
window and keeping the middle gives the same samples as vocoding the whole mel (up to float rounding); at the
true start and end the window is clipped, where the generator's own zero padding applies as in one-shot vocoding.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator

import torch
from torch import nn

from hifigan.config import HifiganConfig
from hifigan.config.values import integer
from hifigan.errors import HifiganError
from hifigan.inference.choices import AUTO_CHUNK_FRAMES, DEFAULT_CHUNK_FRAMES
from hifigan.inference.mel_input import stream_chunk
from hifigan.models.generators import build_generator, meta_generator
from hifigan.models.layers import ReceptiveField
from hifigan.models.receptive_field import generator_field, own_field

__all__ = [
    "AUTO_CHUNK_FRAMES",
    "DEFAULT_CHUNK_FRAMES",
    "ReceptiveField",
    "StreamCursor",
    "latency_ms",
    "receptive_field",
    "reported_ms",
    "split_frames",
    "stream",
    "time_splits",
]

Run = Callable[[torch.Tensor], torch.Tensor]  # [B, num_mels, T] -> [B, T * hop]


def receptive_field(model: HifiganConfig | nn.Module, config: HifiganConfig | None = None) -> ReceptiveField:
    """Exact mel context of a generator, or of the generator a config builds (hifigan.models.generators): from its
    layer description or its own declaration, else measured once (hifigan.models.receptive_field; for a module,
    that needs its `config`)."""
    if isinstance(model, HifiganConfig):
        config = model
        model = meta_generator(config)[0]  # the layers' geometry, or the declaration, without allocating weights
        if (own := own_field(model)) is not None:
            return own[0]
        with torch.random.fork_rng(devices=[]):  # random weights to measure on; the caller's RNG untouched
            model = build_generator(config)
    elif config is None:
        if (own := own_field(model)) is None:
            raise HifiganError(None, f"generator {type(model).__name__} neither describes its layers nor declares "
                                     "its receptive field: give its config to measure it")
        return own[0]
    return generator_field(model, config.num_mels, config.hop_size)[0]


def latency_ms(config: HifiganConfig) -> float:
    """Algorithmic latency of exact streaming: the look-ahead frames, in milliseconds of audio."""
    return config.frames_ms(receptive_field(config).right)


def reported_ms(ms: float) -> float:
    """A millisecond figure as a report gives it (bench's streaming figures, serve's /v1/info): to 0.1 ms, the
    figures' one rounding."""
    return round(ms, 1)


def _check_chunk(chunk: torch.Tensor, num_mels: int, index: int, dtype: torch.dtype) -> torch.Tensor:
    """Chunk `index` ([num_mels, t], or a batch of one [1, num_mels, t]) as a [num_mels, t] CPU tensor of `dtype`
    (the buffer's: a chunk may come on an acoustic model's GPU), detached (an acoustic model's output may require
    grad: the buffer would chain every chunk's graph); another shape is a whole mel's MelError, naming the chunk (a
    ValueError too, like every bad mel)."""
    chunk = torch.as_tensor(chunk, dtype=dtype, device="cpu").detach()
    return stream_chunk(chunk, num_mels, False, f"mel chunk {index}")


class StreamCursor:
    """The bookkeeping of exact streaming, one mel chunk at a time: `push` a chunk, get the next window to vocode
    (or None while the look-ahead is not there yet); `finish` at the end. A window is (mel, a, b): vocode `mel` alone
    and keep the audio of its frames [a, b); no chunk after `finish`. The buffer keeps only `field.left` past
    frames, on the CPU (the model's runner moves each window to its device)."""

    def __init__(self, field: ReceptiveField, num_mels: int, min_frames: int = 1,
                 dtype: torch.dtype = torch.float32) -> None:
        self.field, self.num_mels, self.min_frames, self.dtype = field, num_mels, min_frames, dtype
        self.buf = torch.zeros(num_mels, 0, dtype=dtype)
        self.buf_start = 0  # absolute frame index of buf[:, 0]
        self.done = 0  # frames whose window has been handed out
        self.chunks = 0
        self.finished = False  # finish() called: the mel has ended

    @property
    def frames(self) -> int:
        """Mel frames pushed so far."""
        return self.buf_start + self.buf.shape[1]

    @property
    def ready(self) -> int:
        """Frames whose look-ahead has arrived and whose window has not been handed out."""
        return max(0, self.frames - self.field.right - self.done)

    def add(self, chunk: torch.Tensor) -> None:
        """Buffer a chunk without handing out a window (a caller that gathers frames while it is busy). After
        `finish` (whose window was vocoded as the mel's end) a RuntimeError, the state unchanged."""
        if self.finished:
            raise RuntimeError(f"mel chunk {self.chunks} came after the stream's finish(): start a new stream")
        self.buf = torch.cat([self.buf, _check_chunk(chunk, self.num_mels, self.chunks, self.dtype)], dim=1)
        self.chunks += 1

    def take(self) -> tuple[torch.Tensor, int, int] | None:
        """The window of every ready frame (None if there is none)."""
        if self.ready == 0:
            return None
        window = self._take(self.frames - self.field.right)
        keep_from = max(0, self.done - self.field.left)
        self.buf, self.buf_start = self.buf[:, keep_from - self.buf_start :], keep_from
        return window

    def push(self, chunk: torch.Tensor) -> tuple[torch.Tensor, int, int] | None:
        """Add a chunk; the window of the ready frames once there are `min_frames` of them."""
        self.add(chunk)
        return self.take() if self.ready >= self.min_frames else None

    def finish(self) -> tuple[torch.Tensor, int, int] | None:
        """The last window: every frame not handed out yet (None if there is none: so at a second call)."""
        self.finished = True
        return self._take(self.frames) if self.frames > self.done else None

    def _take(self, stop: int) -> tuple[torch.Tensor, int, int]:
        window = (self.buf, self.done - self.buf_start, stop - self.buf_start)
        self.done = stop
        return window


def stream(
    run: Run, mel_chunks: Iterable[torch.Tensor], field: ReceptiveField, hop: int, num_mels: int,
    min_frames: int = 1, dtype: torch.dtype = torch.float32,
) -> Iterator[torch.Tensor]:
    """Audio chunks whose concatenation equals vocoding the concatenated mel in one go.

    A frame's audio is emitted once `field.right` later frames have arrived (or the input ends); the
    buffer keeps only `field.left` past frames, so memory is bounded by the chunk size. At least
    `min_frames` frames are vocoded per call (fewer only at the end), trading latency for throughput.
    Chunks are converted to `dtype` (the model's).
    """
    cursor = StreamCursor(field, num_mels, min_frames, dtype)
    for chunk in mel_chunks:
        if (window := cursor.push(chunk)) is not None:
            yield _window(run, *window, hop)
    if (window := cursor.finish()) is not None:
        yield _window(run, *window, hop)


def _window(run: Run, mel: torch.Tensor, start: int, stop: int, hop: int) -> torch.Tensor:
    """Audio of the window's frames [start, stop), vocoded from the whole window (which covers their context)."""
    audio = run(mel.unsqueeze(0))[0]
    return audio[start * hop : stop * hop].clone()


def time_splits(frames: int, parts: int, field: ReceptiveField) -> list[tuple[int, int, int, int]]:
    """Cut [0, frames) into `parts` pieces computable independently: (in_start, in_stop, out_start, out_stop).

    Piece i's audio is frames [out_start, out_stop) of the window mel[in_start:in_stop] (offset by
    out_start - in_start frames), exact because each window carries the receptive field.
    """
    bounds = [round(i * frames / parts) for i in range(parts + 1)]
    pairs = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    return [(max(0, a - field.left), min(frames, b + field.right), a, b) for a, b in pairs]


def split_frames(mel: torch.Tensor, chunk_frames: int) -> Iterator[torch.Tensor]:
    """Consecutive [num_mels, <=chunk_frames] views of a mel; `chunk_frames` (an integer >= 1) checked at the call,
    not at the first chunk."""
    chunk_frames = integer("chunk_frames", chunk_frames, 1)
    return (mel[:, start : start + chunk_frames] for start in range(0, mel.shape[-1], chunk_frames))
