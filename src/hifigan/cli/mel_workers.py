"""`hifigan mel` of many files in the training scan's worker processes (hifigan.data.scan_pool, by its rule: one per
CPU, none for fewer than PARALLEL_MIN files): each file is read once, checked, and its mel computed at one torch
thread (as this process does for few files: the same bytes either way) and written to a staging folder
(hifigan.files.staging); a file that fails its check comes back as its one-line error. The mels are moved into OUT
once every file has passed, so a bad file still leaves nothing written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.data.scan_pool import WorkerDied, read_files
from hifigan.data.scan_row import ReadSettings
from hifigan.errors import HifiganError, WriteError
from hifigan.mel import MelSpectrogram
from hifigan.messages.plural import count


@dataclass(frozen=True)
class MelJob:
    """What a worker needs for an audio file: the front-end, how audio is read, OUT (what a failed write names), and
    the folder its <stem>.npy is written to until every file has passed (None: the file is only checked)."""

    frontend: MelSpectrogram
    read: ReadSettings
    out: Path
    staging: Path | None


def stage_mels(files: Sequence[Path], job: MelJob, progress: bool, workers: int | None = None
               ) -> list[HifiganError]:
    """Each file read once, checked, and its mel written to job.staging, in `workers` processes (None: the scan's
    rule); the errors of the files that fail their check, in file order. A worker's own error (a full disk) is
    raised here as it was raised there, and a worker that dies is a one-line error naming the files it may have held
    (nothing is in OUT yet)."""
    failed: dict[int, HifiganError] = {}
    try:
        for index, problem in read_files([str(f) for f in files], job, stage_mel, workers, progress, "mel"):
            if problem is not None:
                failed[index] = problem
    except WorkerDied as e:
        shown = ", ".join(e.reading[:4]) + (f" and {len(e.reading) - 4} more" if len(e.reading) > 4 else "")
        raise HifiganError(None, f"a mel worker process died (likely out of memory) reading one of "
                                 f"{count(len(e.reading), 'file')}: {shown or 'not known'}; nothing was "
                                 "written") from None
    return [failed[index] for index in sorted(failed)]


def stage_mel(name: str, job: MelJob) -> HifiganError | None:
    """One file's mel (file_mel) to job.staging/<stem>.npy, or why the file fails its check; the reader of
    stage_mels' workers."""
    from hifigan.mel_file import save_npy

    path = Path(name)
    try:
        mel = file_mel(path, job.frontend, job.read)
    except HifiganError as e:
        return e
    if job.staging is not None:
        try:
            save_npy(job.staging / f"{path.stem}.npy", mel)
        except WriteError as e:  # named as the output it stands for, not its staging copy
            raise WriteError(job.out / f"{path.stem}.npy", e.problem, e.remedy) from None
    return None


def file_mel(path: Path, frontend: MelSpectrogram, read: ReadSettings) -> np.ndarray:
    """The float32 mel [num_mels, frames] of an audio file, computed at one torch thread (a worker's share of the
    CPUs): the same rounding whether one file is given or a corpus, in this process or a worker."""
    from hifigan.audio import load_audio
    from hifigan.runtime.threads import intra_op_threads

    audio = load_audio(path, read.sampling_rate, resample=read.resample, mix_to_mono=read.mix_to_mono, cli=True)
    with intra_op_threads(1):
        return frontend.checked(audio, path).numpy().astype("float32")
