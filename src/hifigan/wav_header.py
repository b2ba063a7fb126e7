"""RIFF/WAVE chunks: truncated files (a header that promises more sample frames than the file holds) and chunks
dropped from a copy.

libsndfile reads a truncated file without a word, as the frames that are there; an interrupted copy or download
then passes as a shorter recording. Every reader (hifigan.audio) refuses it instead, naming both counts.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from hifigan.errors import AudioError

_UNKNOWN_LENGTH = 0x7FFFF000  # data sizes at or above this (and 0) are the placeholders of writers into a pipe
_MAX_CHUNKS = 1000


def _chunks(f: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """(chunk id, declared length, offset of its 8-byte header) of each chunk of a RIFF/WAVE stream, in order;
    nothing for another format. Stops at the end of the stream, wherever the last chunk's length points."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    position = 12
    for _ in range(_MAX_CHUNKS):
        f.seek(position)
        header = f.read(8)
        if len(header) < 8:
            return
        chunk, length = struct.unpack("<4sI", header)
        yield chunk, length, position
        position += 8 + length + (length & 1)


def truncated_frames(path: str | os.PathLike) -> tuple[int, int] | None:
    """(frames the header promises, frames the file holds) when a WAV file's data chunk runs past its end; None
    for a complete WAV, a streamed one of unknown length, or another format."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        block = 0
        for chunk, length, position in _chunks(f):
            if chunk == b"fmt ":
                f.seek(position + 8)
                fmt = f.read(min(length, 16))
                block = struct.unpack_from("<H", fmt, 12)[0] if len(fmt) >= 14 else 0  # bytes per sample frame
            elif chunk == b"data":
                held = size - position - 8
                if block == 0 or length == 0 or length >= _UNKNOWN_LENGTH or length <= held:
                    return None
                return length // block, held // block
    return None


def refuse_truncated(path: str | os.PathLike) -> None:
    """A one-line AudioError for a truncated WAV file (see truncated_frames)."""
    counts = truncated_frames(path)
    if counts is not None:
        promised, held = counts
        raise AudioError(path, f"truncated WAV: the header promises {promised} frames, the file holds {held} (an "
                         "interrupted copy or download?)")


def without_chunks(wav: bytes, drop: frozenset[bytes]) -> bytes:
    """Complete WAV bytes less the chunks whose ids are in `drop` (e.g. libsndfile's PEAK chunk, which holds the
    peak value and its position), with the RIFF size rewritten."""
    kept = [wav[12:12]]
    for chunk, length, position in _chunks(io.BytesIO(wav)):
        if chunk not in drop:
            kept.append(wav[position:position + 8 + length + (length & 1)])
    body = b"WAVE" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body
