"""What the up-front scan learns about one file, as one row of a numpy table (ROW): its header, its length at the
model rate, its peak and share of clipped frames, or why it cannot be read; the options it was read under
(ReadSettings); `read_one` reads it, in a scan worker process. scan_cache.py keeps the rows of a corpus by file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.arrays.pcm import MAX_WAV_VALUE
from hifigan.audio import audio_info, check_format, conform_audio, decode_audio
from hifigan.data.segments import Segment, recording_of
from hifigan.errors import AudioError, FileReadError

CLIP_TOLERANCE = 2.0 / MAX_WAV_VALUE  # int16 clips at 32767 and -32768: both are the peak, within 2 steps

# status of a row; PAST: a segment (hifigan.data.segments) outside its recording
LOADED, UNREADABLE, EMPTY, FORMAT, PAST = 0, 1, 2, 3, 4

ROW = np.dtype([
    # the key, with the path; the ctime (which no one sets) tells a file replaced by one of the same size whose
    # mtime was set back (cp -p, rsync -a, an archive's times)
    ("size", np.int64), ("mtime_ns", np.int64), ("ctime_ns", np.int64),
    ("status", np.int8), ("rate", np.int32), ("channels", np.int16), ("frames", np.int64),  # the header
    ("samples", np.int64), ("peak", np.float64),  # the samples, at the model rate
    ("clipped", np.float64),  # of the samples as stored (clipped_share)
    ("read_as", np.int8),  # the options it was read under: RESAMPLED | MIXED (scan_cache's _fits)
])
RESAMPLED, MIXED = 1, 2  # read_as' bits: resample, mix_to_mono


@dataclass(frozen=True)
class ReadSettings:
    """How files are read (a cache holds rows for one sampling_rate; each row says which options it was read under)."""

    sampling_rate: int
    resample: bool = False
    mix_to_mono: bool = False

    @property
    def bits(self) -> int:
        """The options as a row's read_as."""
        return RESAMPLED * self.resample | MIXED * self.mix_to_mono


def read_one(path: str | Segment, settings: ReadSettings) -> tuple[tuple, str | None]:
    """The row of one file (or segment: its span of its recording, keyed by the recording's stat) and, if it cannot
    be read, why (AudioError's problem, as the scan reports it). A file
    that could not be opened or read (FileReadError) keeps its size (what other ranks check their listing against)
    with the mtime and ctime -1: the cache never reuses that row, since the next try may succeed with the file unchanged
    (permissions fixed, a network share back). A file that cannot be stat'ed is keyed (-1, -1, -1)."""
    source = recording_of(path)
    try:
        stat = os.stat(source)
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    except OSError:
        key = (-1, -1, -1)
    blank = (0, 0, 0, -1, 0.0, 0.0)  # no header
    read_as = settings.bits
    try:
        info = audio_info(source)
    except AudioError as e:
        return (*_key_of(key, e), UNREADABLE, *blank, read_as), e.problem
    header = (info.samplerate, info.channels, info.frames)
    if info.frames == 0:
        return (*key, EMPTY, *header, -1, 0.0, 0.0, read_as), None
    span = path.span(info.samplerate, info.frames) if isinstance(path, Segment) else ()
    if span is None:
        return (*key, PAST, *header, -1, 0.0, 0.0, read_as), None  # the scan raises it, naming its line
    try:
        check_format(path, info.channels, info.samplerate, settings.sampling_rate, resample=settings.resample,
                     mix_to_mono=settings.mix_to_mono)
    except AudioError:
        return (*key, FORMAT, *header, -1, 0.0, 0.0, read_as), None  # the scan raises it, in file order
    try:
        stored, rate = decode_audio(Path(source), *span)
        audio = conform_audio(path, stored, rate, settings.sampling_rate, resample=settings.resample,
                              mix_to_mono=settings.mix_to_mono)
    except AudioError as e:
        return (*_key_of(key, e), UNREADABLE, *header, -1, 0.0, 0.0, read_as), e.problem
    peak = float(np.abs(audio).max()) if audio.shape[0] else 0.0
    return (*key, LOADED, *header, int(audio.shape[0]), peak, clipped_share(stored), read_as), None


def _key_of(key: tuple[int, int, int], error: AudioError) -> tuple[int, int, int]:
    """The row's key after `error`: its size with the mtime and ctime -1 (never reused) when it is a failure to read,
    not a verdict."""
    return (key[0], -1, -1) if isinstance(error, FileReadError) else key


def clipped_share(audio: np.ndarray) -> float:
    """The share of frames of `audio` [frames, channels] where a channel sits on a flat top at full scale: two or
    more consecutive samples within CLIP_TOLERANCE of the file's peak, when that peak is at 1.0 or above. A float
    file louder than 1.0 has no flat top (float does not clip); a quiet int16 file can, by rounding, but below full
    scale. Measured on the samples as stored: resampling's ringing rounds the flat tops off."""
    magnitude = np.abs(audio)
    peak = float(magnitude.max()) if audio.size else 0.0
    if audio.shape[0] < 2 or peak < 1.0 - CLIP_TOLERANCE:
        return 0.0
    at_peak = magnitude >= peak - CLIP_TOLERANCE
    pairs = at_peak[1:] & at_peak[:-1]
    on_top = np.zeros_like(at_peak)
    on_top[1:] |= pairs
    on_top[:-1] |= pairs
    return float(on_top.any(axis=1).mean())
