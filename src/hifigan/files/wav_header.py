"""RIFF/WAVE chunks: truncated files (a header that promises more sample frames than the file holds), the data size
0 a writer into a pipe leaves, RIFF files past 4 GiB, and chunks dropped from a copy.

libsndfile reads a truncated file without a word, as the frames that are there; an interrupted copy or download
then passes as a shorter recording. It reads a RIFF file past 4 GiB (a writer that cannot write RF64 leaves
0xFFFFFFFF or a wrapped size) as its first 4 GiB at most, the rest lost as silently. Every reader (hifigan.audio)
refuses both instead.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from hifigan.errors import AudioError
from hifigan.messages.plural import byte_size, count

_UNKNOWN_LENGTH = 0x7FFFF000  # data sizes at or above this (and 0) are the placeholders of writers into a pipe
_MAX_CHUNKS = 1000
_RF64_SIZE = 0xFFFFFFFF  # an RF64 size field whose value is in the ds64 chunk
RIFF_MAX = 0xFFFFFFFF  # the most bytes a RIFF size field can say (writers: wav_output; past it, readers read short)
# Copies the samples to their end (ffmpeg's WAV demuxer, told to ignore the data size) into RF64 as they are
_TO_RF64 = "ffmpeg -ignore_length 1 -i IN.wav -c:a copy -rf64 auto OUT.wav"


def _chunks(f: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """(chunk id, declared length, offset of its 8-byte header) of each chunk of a RIFF/WAVE or RF64 stream, in
    order; nothing for another format. An RF64 data chunk's length is the 64-bit one of the ds64 chunk (its own
    field holds 0xFFFFFFFF). Stops at the end of the stream, wherever the last chunk's length points."""
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return
    data_size = None  # RF64: the data chunk's length, from ds64
    position = 12
    for _ in range(_MAX_CHUNKS):
        f.seek(position)
        header = f.read(8)
        if len(header) < 8:
            return
        chunk, length = struct.unpack("<4sI", header)
        if chunk == b"ds64" and head[:4] == b"RF64" and len(sizes := f.read(16)) == 16:
            data_size = struct.unpack("<QQ", sizes)[1]
        elif chunk == b"data" and length == _RF64_SIZE and data_size is not None:
            length = data_size
        yield chunk, length, position
        position += 8 + length + (length & 1)


_DataChunk = tuple[int, int, int, int, bool]


def _data_chunk(path: str | os.PathLike) -> _DataChunk | None:
    """(bytes per sample frame, the data chunk's declared length, the offset of its header, the bytes the file
    holds after that header, whether the file is RF64) of a WAV file; None for another format or a WAV without a
    data chunk."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        rf64 = f.read(4) == b"RF64"
        f.seek(0)
        block = 0
        for chunk, length, position in _chunks(f):
            if chunk == b"fmt ":
                f.seek(position + 8)
                fmt = f.read(min(length, 16))
                block = struct.unpack_from("<H", fmt, 12)[0] if len(fmt) >= 14 else 0
            elif chunk == b"data":
                return block, length, position, size - position - 8, rf64
    return None


def placeholder_patch(path: str | os.PathLike) -> tuple[int, bytes] | None:
    """(offset, bytes) to read over a WAV file's data size when it is the placeholder 0 that a writer into a pipe
    leaves (sox or ffmpeg writing to stdout) and samples follow the header: the size of the whole frames the file
    holds. libsndfile reads such a chunk as empty. None otherwise: a complete WAV, the placeholder 0xFFFFFFFF
    (libsndfile reads it to the end, up to 4 GiB), a WAV with no sample after its header (empty indeed), another
    format. A RIFF file past 4 GiB is a one-line AudioError (_refuse_past_riff): no 32-bit size reads it whole."""
    data = _data_chunk(path)
    _refuse_past_riff(path, data)
    return _patch(data)


def _refuse_past_riff(path: str | os.PathLike, data: _DataChunk | None) -> None:
    """A one-line AudioError naming the fix when a WAV file's data chunk (`_data_chunk`) is RIFF (not RF64) and more
    than 4 GiB follow its header: more than its 32-bit sizes can say, so whatever they hold (0, 0xFFFFFFFF, the size
    wrapped past 2**32), libsndfile reads 4 GiB at most and drops the rest without a word."""
    if data is not None and not data[4] and data[3] > RIFF_MAX:
        raise AudioError(path, f"RIFF WAV past 4 GiB ({byte_size(data[3])} after its data chunk's header), more than "
                               f"its 32-bit sizes can say: it would be read short (convert it to RF64, reading it "
                               f"to its end: {_TO_RF64})")


def _truncated(data: _DataChunk | None) -> tuple[int, int] | None:
    """(frames the header promises, frames the file holds) when a WAV file's data chunk (`_data_chunk`) runs past
    its end; None for a complete WAV, a streamed one of unknown length, or another format. An RF64 file's length is
    its ds64 chunk's 64-bit one, a size whatever its value (the placeholders are those of 32-bit fields)."""
    if data is None:
        return None
    block, length, _, held, rf64 = data
    if block == 0 or length == 0 or (length >= _UNKNOWN_LENGTH and not rf64) or length <= held:
        return None
    return length // block, held // block


def _patch(data: _DataChunk | None) -> tuple[int, bytes] | None:
    if data is None:
        return None
    block, length, position, held, rf64 = data
    if length != 0 or rf64 or block == 0 or held < block:
        return None
    held -= held % block
    return position + 4, struct.pack("<I", held)  # at most 4 GiB: _refuse_past_riff


class PatchedFile(io.FileIO):
    """A file opened for reading, read as if `patch` (offset, bytes) were written over it: soundfile reads it
    like the file (virtual I/O), the file itself untouched."""

    def __init__(self, path: str | os.PathLike, patch: tuple[int, bytes]) -> None:
        super().__init__(path, "rb")
        self._offset, self._bytes = patch

    def _overlay(self, buffer: memoryview, start: int, count: int) -> None:
        low, high = max(self._offset, start), min(self._offset + len(self._bytes), start + count)
        if low < high:
            buffer[low - start:high - start] = self._bytes[low - self._offset:high - self._offset]

    def readinto(self, buffer: Any) -> int:  # a writable buffer: bytearray, memoryview, soundfile's cffi buffer
        start = self.tell()
        count = super().readinto(buffer) or 0
        self._overlay(memoryview(buffer).cast("B"), start, count)
        return count

    def read(self, size: int = -1) -> bytes:
        start = self.tell()
        data = bytearray(super().read(size))
        self._overlay(memoryview(data), start, len(data))
        return bytes(data)


def readable_patch(path: str | os.PathLike) -> tuple[int, bytes] | None:
    """A one-line AudioError for a truncated WAV file (see _truncated) or a RIFF one past 4 GiB
    (_refuse_past_riff); else its placeholder_patch (None: read it as it is). One read of the header for all."""
    data = _data_chunk(path)
    _refuse_past_riff(path, data)
    counts = _truncated(data)
    if counts is not None:
        promised, held = counts
        raise AudioError(path, f"truncated WAV: the header promises {count(promised, 'frame')}, the file holds "
                         f"{held} (an interrupted copy or download?)")
    return _patch(data)


def without_chunks(wav: bytes, drop: frozenset[bytes]) -> bytes:
    """Complete WAV bytes less the chunks whose ids are in `drop` (e.g. libsndfile's PEAK chunk, which holds the
    peak value and its position), with the RIFF size rewritten (RF64: the one in its ds64 chunk, which comes first)."""
    kept = [wav[12:12]]
    for chunk, length, position in _chunks(io.BytesIO(wav)):
        if chunk not in drop:
            kept.append(wav[position:position + 8 + length + (length & 1)])
    body = bytearray(b"WAVE" + b"".join(kept))
    if wav[:4] == b"RF64":
        struct.pack_into("<Q", body, 12, len(body))  # WAVE, then ds64's id and length, then its RIFF size
        return b"RF64" + struct.pack("<I", _RF64_SIZE) + bytes(body)
    return b"RIFF" + struct.pack("<I", len(body)) + bytes(body)
