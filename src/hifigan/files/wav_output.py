"""The one rule for the container of every WAV the project writes: RIFF/WAVE while its sizes fit RIFF's 32-bit
fields, RF64 (EBU Tech 3306, WAV with 64-bit sizes) past them.

A RIFF file's sizes are unsigned 32-bit. Past 4 GiB of samples (27 h of 16-bit mono at 22.05 kHz) libsndfile still
writes a RIFF file, with 0xFFFFFFFF for both sizes: every reader, libsndfile itself included, then reads it as
0xFFFFFFFF bytes of samples and drops the rest without a word. RF64 keeps the true sizes in its ds64 chunk; libsndfile
(soundfile format "RF64"), sox, ffmpeg and most audio editors read it. A file that fits stays plain RIFF/WAVE, which
every reader takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from hifigan.files.wav_header import RIFF_MAX

HEADER_ROOM = 0x10000  # bytes kept for the chunks before the samples (RIFF, fmt, fact, PEAK: under 100 for mono)
RIFF_DATA_LIMIT = RIFF_MAX - HEADER_ROOM  # the most bytes of samples written as RIFF/WAVE
SAMPLE_BYTES = {"PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8, "ULAW": 1, "ALAW": 1}
_COPY_FRAMES = 1 << 20  # frames per block when a growing file moves to RF64


def wav_container(frames: int, channels: int, subtype: str, limit: int = RIFF_DATA_LIMIT) -> str:
    """The soundfile format to write `frames` x `channels` samples of `subtype` in: "WAV" while their bytes are at
    most `limit` (RIFF_DATA_LIMIT; lower only to test the rule), else "RF64"."""
    return "RF64" if frames * channels * SAMPLE_BYTES[subtype] > limit else "WAV"


def write_wav_stream(path: Path, blocks: Iterable[np.ndarray], rate: int, subtype: str,
                     limit: int = RIFF_DATA_LIMIT) -> int:
    """Write mono `blocks` one after another to `path` (a temporary file the caller renames), memory holding one
    block: as RIFF/WAVE while the samples fit (wav_container), so that a file that fits is what a whole write makes
    of the same samples. The block that would pass `limit` first moves the file to RF64: the samples so far are
    copied, block by block, into an RF64 file beside it (once; seconds, against the hours of audio that reach it),
    which the rest goes to and which then takes `path`'s place. Returns the frames written."""
    frames = 0
    moved = path.with_name(path.name + ".rf64.tmp")
    out = sf.SoundFile(path, "w", rate, 1, subtype=subtype, format="WAV")
    try:
        for block in blocks:
            if out.format == "WAV" and wav_container(frames + len(block), 1, subtype, limit) == "RF64":
                out.close()
                out = _copied_to_rf64(path, moved, rate, subtype)
            out.write(block)
            frames += len(block)
        out.close()
        if out.format == "RF64":
            os.replace(moved, path)
    finally:
        out.close()
        moved.unlink(missing_ok=True)
    return frames


def _copied_to_rf64(path: Path, moved: Path, rate: int, subtype: str) -> sf.SoundFile:
    """An RF64 file at `moved`, open for writing, holding the samples of the WAV at `path` exactly (int32 holds
    every PCM subtype, float64 both float ones)."""
    dtype = "float64" if subtype in ("FLOAT", "DOUBLE") else "int32"
    out = sf.SoundFile(moved, "w", rate, 1, subtype=subtype, format="RF64")
    try:
        with sf.SoundFile(path) as wav:
            for block in wav.blocks(_COPY_FRAMES, dtype=dtype):
                out.write(block)
    except BaseException:
        out.close()
        raise
    return out
