"""A run's own settings carried over on --resume, as its data options are: every checkpoint stores them under
RUN_KEY, and a resumed job takes each one it does not give from there (a run made before they were stored: today's
defaults). A value given anew wins, is said in one line, and is what the run stores from then on.

Carried: how the run writes its outputs (checkpoint, validation and log intervals, --keep), its non-finite guard
and its stopping targets (--max-steps, --epochs: totals, so a preempted run resumed without them stops where it was
meant to). Not carried: what belongs to one job or one machine (--max-minutes, --device, --threads,
--precision, --deterministic, --cuda-graph, --quiet, progress)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hifigan.checkpoints.run_files import checkpoint_files, pruned, step_of
from hifigan.errors import HifiganError
from hifigan.messages.option_names import flag, setting
from hifigan.training.options import RUN_DEFAULTS, TrainJob, TrainOptions, settled

RUN_KEY = "run"  # the checkpoint key that holds them
LIMITS = ("max_steps", "epochs")  # TrainJob's; the rest are TrainOptions' (RUN_DEFAULTS)
CARRIED = (*RUN_DEFAULTS, *LIMITS)


def given(job: TrainJob) -> dict[str, Any]:
    """The settings the job sets itself (None: not given); of a carried job, what its checkpoints store."""
    return {**option_settings(job.options), **{k: getattr(job, k) for k in LIMITS}}


def option_settings(options: TrainOptions) -> dict[str, Any]:
    """The TrainOptions' share of the settings (what a Trainer made without a job stores: no stopping target)."""
    return {k: getattr(options, k) for k in RUN_DEFAULTS}


def stored(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """The settings a checkpoint stores (None: none stored, a run made before they were)."""
    found = (obj or {}).get(RUN_KEY)
    return {k: found.get(k) for k in CARRIED} if isinstance(found, dict) else None


def carry(job: TrainJob, resume_obj: dict[str, Any] | None) -> tuple[TrainJob, list[str]]:
    """The job with each setting it does not give taken from the resumed checkpoint, then RUN_DEFAULTS; the lines
    to say of it (the settings given anew, or that the run stored none)."""
    ours, run = given(job), stored(resume_obj)
    lines = []
    if resume_obj is not None and run is None and None in ours.values():
        lines.append("the run's checkpoint stores no run settings (made before they were kept): "
                     f"{', '.join(flag(k, job.cli) for k in CARRIED if ours[k] is None)} take today's defaults")
    elif run is not None:
        changed = [f"{setting(k, ours[k], job.cli)} (the run's: {'none' if run[k] is None else run[k]})"
                   for k in CARRIED if ours[k] is not None and ours[k] != run[k]]
        if changed:
            lines.append(f"given anew, these replace the run's settings from now on: {'; '.join(changed)}")
    values = {k: ours[k] if ours[k] is not None else (run or {}).get(k) for k in CARRIED}
    options = settled(dataclasses.replace(job.options, **{k: values[k] for k in RUN_DEFAULTS}))
    return dataclasses.replace(job, options=options, **{k: values[k] for k in LIMITS}), lines


def check_keep(job: TrainJob, keep_given: bool, folder: Path, step: int, best: int | None = None) -> str | None:
    """What the resumed run's first save removes beyond its usual one, said in one line (None: nothing more): the
    files it keeps, and the best checkpoint (step `best`) only while it is the best (a validation before that save
    may find a new best, and the old one is then an old checkpoint like the others), so no count is promised.

    Files are removed only where this job gives --keep: where the run holds more checkpoints than a --keep it did
    not give (today's default, for a run made before --keep was stored), the job is refused, naming the numbers."""
    held = [p for p in checkpoint_files(folder) if step_of(p) <= step]
    keep = int(job.options.keep)  # type: ignore[arg-type]
    removed = pruned(held, keep, best)
    if len(removed) <= 1:
        return None
    if not keep_given:
        raise HifiganError(folder, f"holds {len(held)} checkpoints, more than {setting('keep', keep, job.cli)} (not "
                                   f"given: the run's or today's default), so the first save would remove "
                                   f"{len(removed)}: give {setting('keep', len(held), job.cli)} to keep them all, or "
                                   f"{setting('keep', keep, job.cli)} to remove them")
    older = held[: len(held) - (keep - 1)]  # what the save removes, but the best while it is the best
    newest = held[len(older):]
    kept = ("only its own checkpoint" if not newest else f"its own checkpoint and the {_newest(newest)} of the "
            f"run's {len(held)}")
    but = [p.name for p in older if step_of(p) == best]
    return (f"{setting('keep', keep, job.cli)}: the first save keeps {kept}; it removes the run's {_span(older)}"
            + (f" but {but[0]} (best.pt's step) while it is the best" if but else ""))


def _newest(files: list[Path]) -> str:
    return f"newest ({files[0].name})" if len(files) == 1 else f"{len(files)} newest ({_span(files)})"


def _span(files: list[Path]) -> str:
    return files[0].name if len(files) == 1 else f"{files[0].name} to {files[-1].name}"
