"""The study's copies of the stimuli, made so that nothing but the sound tells the systems apart.

A rater with the browser's developer tools sees each file's size and header. Copied as they are, the recordings
(often 16-bit with metadata chunks, their own length) and a vocoder's output (float, a multiple of the hop) would
give the hidden reference away. So every version of a clip is written in one WAV format for the whole study, at
the reference's rate, cut to the duration of the clip's shortest version, with no metadata chunks. Samples are kept
exactly where the study's format holds them (8- to 24-bit PCM and float32 all fit float32) and the rate is the
reference's; a version at another rate is resampled (soxr HQ).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np

from hifigan.audio import audio_info, read_samples, resample_audio
from hifigan.evaluation.report.media import sample_dtype, wav_encoded, wav_subtype
from hifigan.files.wav_header import without_chunks

COMMON = "FLOAT"  # the study's format when the stimuli's formats differ
NOTICE_SECONDS = 0.1  # a version cut by more than this is named (a mismatched file, or a system that pads)


def study_subtype(subtypes: Sequence[str]) -> str:
    """One WAV format for every copy: the stimuli's own when they share it, else 32-bit float."""
    found = {wav_subtype(s) for s in subtypes}
    return found.pop() if len(found) == 1 else COMMON


def blind_versions(clip: str, paths: Sequence[str | os.PathLike], subtype: str) -> list[bytes]:
    """Every version of one clip as WAV bytes in `subtype` at the first version's (the reference's) rate, each cut to
    the shortest version's duration; a version at another rate is resampled (soxr HQ), since a rate in the header
    would tell its system. A version cut by more than NOTICE_SECONDS is warned about."""
    infos = [audio_info(p) for p in paths]  # a piped WAV's data size 0: its real length
    rate = infos[0].samplerate
    shortest = min(info.frames / info.samplerate for info in infos)
    # the largest whole number of frames at `rate` that does not outlast the shortest version, in exact integers
    length = min(info.frames * rate // info.samplerate for info in infos)
    versions = []
    for path, info in zip(paths, infos):
        if info.frames / info.samplerate - shortest > NOTICE_SECONDS:
            warnings.warn(f"{path}: cut by {info.frames / info.samplerate - shortest:.2f} s to clip {clip!r}'s "
                          f"shortest version ({shortest:.2f} s); are these the same utterance?", stacklevel=2)
        if info.samplerate == rate:  # the samples exactly, where the study's format holds them
            samples = read_samples(path, sample_dtype(subtype), length)[0]
        else:
            samples = _resampled(read_samples(path, "float32")[0], info.samplerate, rate, length)
        wav = wav_encoded(samples, rate, subtype)
        versions.append(without_chunks(wav, frozenset({b"PEAK"})))
    return versions


def _resampled(samples: np.ndarray, rate: int, target: int, length: int) -> np.ndarray:
    """[frames, channels] float samples at `target` Hz, exactly `length` frames (soxr's output can differ by one)."""
    out = resample_audio(samples, rate, target)[:length]
    return np.pad(out, ((0, length - len(out)), (0, 0)))
