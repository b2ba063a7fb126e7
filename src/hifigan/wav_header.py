"""Truncated WAV files: a RIFF/WAVE header that promises more sample frames than the file holds.

libsndfile reads such a file without a word, as the frames that are there; an interrupted copy or download then
passes as a shorter recording. Every reader (hifigan.audio) refuses it instead, naming both counts.
"""

from __future__ import annotations

import os
import struct

from hifigan.errors import AudioError

_UNKNOWN_LENGTH = 0x7FFFF000  # data sizes at or above this (and 0) are the placeholders of writers into a pipe
_MAX_CHUNKS = 1000


def truncated_frames(path: str | os.PathLike) -> tuple[int, int] | None:
    """(frames the header promises, frames the file holds) when a WAV file's data chunk runs past its end; None
    for a complete WAV, a streamed one of unknown length, or another format."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block, position = 0, 12
        for _ in range(_MAX_CHUNKS):
            f.seek(position)
            header = f.read(8)
            if len(header) < 8:
                return None
            chunk, length = struct.unpack("<4sI", header)
            if chunk == b"fmt ":
                fmt = f.read(min(length, 16))
                block = struct.unpack_from("<H", fmt, 12)[0] if len(fmt) >= 14 else 0  # bytes per sample frame
            elif chunk == b"data":
                held = size - position - 8
                if block == 0 or length == 0 or length >= _UNKNOWN_LENGTH or length <= held:
                    return None
                return length // block, held // block
            position += 8 + length + (length & 1)
    return None


def refuse_truncated(path: str | os.PathLike) -> None:
    """A one-line AudioError for a truncated WAV file (see truncated_frames)."""
    counts = truncated_frames(path)
    if counts is not None:
        promised, held = counts
        raise AudioError(path, f"truncated WAV: the header promises {promised} frames, the file holds {held} (an "
                         "interrupted copy or download?)")
