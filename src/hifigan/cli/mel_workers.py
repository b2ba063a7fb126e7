"""`hifigan mel` of many files in the training scan's worker processes (hifigan.data.scan_pool, by its rule: one per
CPU, none for fewer than PARALLEL_MIN files): the check pass reads the scan's facts of each file (scan_cache.read_one)
and the few files they show bad are checked again here, for the one-line error; then each worker computes mels and
writes them (atomically), at one torch thread, as this process does for few files: the same bytes either way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.data.scan_cache import LOADED, FileFacts, ReadSettings, gather_facts
from hifigan.data.scan_pool import WorkerDied, read_files
from hifigan.errors import HifiganError
from hifigan.mel import FAR_OUTSIDE, MelSpectrogram
from hifigan.messages.plural import count


@dataclass(frozen=True)
class MelJob:
    """What a worker needs to write OUT/<stem>.npy for an audio file: the front-end, how audio is read, OUT."""

    frontend: MelSpectrogram
    read: ReadSettings
    out: Path


def file_facts(files: Sequence[Path], read: ReadSettings, progress: bool, workers: int | None = None) -> FileFacts:
    """The scan's facts of every file (header, length at the model rate, peak, or why it cannot be read), in
    `workers` processes (None: the scan's rule)."""
    return gather_facts(files, read, workers=workers, progress=progress, save=False, desc="check")


def may_fail_check(row: object, frontend: MelSpectrogram) -> bool:
    """Whether the file of a scan row may fail MelSpectrogram.check: unread (unreadable, empty, a format option
    missing), too short at the model rate, or far outside [-1, 1] (a non-finite sample makes the file unreadable)."""
    return int(row["status"]) != LOADED or int(row["samples"]) < frontend.min_samples or row["peak"] > FAR_OUTSIDE


def write_mels(files: Sequence[Path], job: MelJob, progress: bool, workers: int | None = None) -> None:
    """Each file's mel to job.out/<stem>.npy, in `workers` processes (None: the scan's rule); a worker's error (a full
    disk) is raised here as it was raised there, and a worker that dies is a one-line error naming the files it may
    have held (each output is complete or absent)."""
    try:
        for _ in read_files([str(f) for f in files], job, write_mel, workers, progress, "mel"):
            pass
    except WorkerDied as e:
        shown = ", ".join(e.reading[:4]) + (f" and {len(e.reading) - 4} more" if len(e.reading) > 4 else "")
        raise HifiganError(None, f"a mel worker process died (likely out of memory) computing one of "
                                 f"{count(len(e.reading), 'file')}: {shown or 'not known'}; the .npy files written "
                                 "are complete") from None


def write_mel(name: str, job: MelJob) -> tuple:
    """One file's mel (file_mel) to job.out/<stem>.npy; the reader of write_mels' workers."""
    from hifigan.mel_file import save_npy

    save_npy(job.out / f"{Path(name).stem}.npy", file_mel(Path(name), job.frontend, job.read))
    return ()


def file_mel(path: Path, frontend: MelSpectrogram, read: ReadSettings) -> np.ndarray:
    """The float32 mel [num_mels, frames] of an audio file, computed at one torch thread (a worker's share of the
    CPUs): the same rounding whether one file is given or a corpus, in this process or a worker."""
    from hifigan.audio import load_audio
    from hifigan.runtime.threads import intra_op_threads

    audio = load_audio(path, read.sampling_rate, resample=read.resample, mix_to_mono=read.mix_to_mono, cli=True)
    with intra_op_threads(1):
        return frontend.checked(audio, path).numpy().astype("float32")
