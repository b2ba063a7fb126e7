"""A training run's checkpoint files (ckpt_<step>.pt, latest.pt, best.pt, finding the newest loadable one to resume
from) and the layout of a training checkpoint: which keys it holds besides the generator."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

from hifigan.checkpoints.format import FORMAT_KEY, is_own_checkpoint, read_checkpoint, write_checkpoint
from hifigan.config import DEFAULT_DISCRIMINATORS
from hifigan.errors import CheckpointError
from hifigan.files.atomic import link_or_copy
from hifigan.files.paths import same_file
from hifigan.files.write_failures import write_failure

OPTIMIZER_KEYS = ("optim_g", "optim_d", "sched_g", "sched_d")
POSITION_KEYS = ("step", "epoch", "batch_in_epoch")
# Keys of a training checkpoint that are not discriminators (each discriminator's weights are stored under its name).
BEST_KEY = "best"  # the best so far: {"value": mel L1, "step": step, "metric": what it measures} or None
REFERENCES_KEY = "references"  # the step the run logged the held-out clips' reference audio at; None: not yet
RESERVED = (FORMAT_KEY, "config", "generator", *OPTIMIZER_KEYS, *POSITION_KEYS, "batch_size", "world_size", "rng",
            "data", "run", BEST_KEY, REFERENCES_KEY)
CKPT_PATTERN = re.compile(r"^ckpt_(\d{8,})\.pt$")
OFFICIAL_G_PATTERN = re.compile(r"^g_(\d{8,})$")  # the official train.py's g_<steps>
LATEST = "latest.pt"
BEST = "best.pt"  # the checkpoint of the lowest validation mel L1 (training.best_checkpoint)
SUPERSEDED = ".superseded"  # the suffix of a step checkpoint set aside by a run that went back before it


def checkpoint_files(folder: Path) -> list[Path]:
    """Our step checkpoints in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := CKPT_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def find_resume_checkpoint(path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The newest loadable training checkpoint in a run folder (or its checkpoints/ folder, or a file).

    A checkpoint that fails to load (say, from a full disk) is reported and the previous one is used.
    """
    path = Path(path)
    if path.is_file():
        obj = read_checkpoint(path)
        require_training_state(obj, path)
        return path, obj
    folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    if not folder.is_dir():
        raise CheckpointError(path, "no such run folder to resume from")
    for candidate in reversed(checkpoint_files(folder)):
        try:
            obj = read_checkpoint(candidate)
            require_training_state(obj, candidate)
        except CheckpointError as e:
            warnings.warn(f"skipping unloadable checkpoint {e}", stacklevel=2)
            continue
        return candidate, obj
    raise CheckpointError(folder, "no loadable training checkpoint (ckpt_*.pt) to resume from" + _official_hint(folder))


def _official_hint(folder: Path) -> str:
    """'; it holds official ... --init-from ...' where `folder` holds the official train.py's g_<steps> files (an
    official checkpoint folder, which the official code resumes from): they start a run with --init-from instead."""
    found = sorted((int(m.group(1)), p) for p in folder.iterdir() if p.is_file() and
                   (m := OFFICIAL_G_PATTERN.match(p.name)))
    if not found:
        return ""
    newest = found[-1][1]
    return (f"; it holds official checkpoints: --init-from {newest} starts from them (weights and Adam moments, "
            "with the do_* beside it; the step count and learning-rate schedule start afresh)")


def require_training_state(obj: dict[str, Any], source: Path) -> None:
    """A checkpoint to resume from must be ours and hold every training key (its discriminators by name,
    optimizers, schedulers, position)."""
    if not is_own_checkpoint(obj):
        raise CheckpointError(source, "not a training checkpoint of this package (use --init-from for official files)")
    missing = [k for k in training_keys(stored_discriminators(obj)) if k not in obj]
    if missing:
        raise CheckpointError(source, f"holds no training state (missing {', '.join(missing)}); use --init-from")


def training_keys(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The keys a checkpoint to resume from holds besides the generator: each discriminator, optimizers, position."""
    return (*names, *OPTIMIZER_KEYS, *POSITION_KEYS)


def stored_discriminators(obj: dict[str, Any]) -> list[str]:
    """The discriminator names one of our checkpoints was trained with (mpd and msd before configs named them)."""
    config = obj.get("config")
    names = config.get("discriminators") if isinstance(config, dict) else None
    return list(names) if isinstance(names, list) else list(DEFAULT_DISCRIMINATORS)


def stored_discriminator_args(obj: dict[str, Any]) -> dict[str, Any]:
    """The discriminator arguments one of our checkpoints was trained with (none before configs had them)."""
    config = obj.get("config")
    args = config.get("discriminator_args") if isinstance(config, dict) else None
    return args if isinstance(args, dict) else {}


def step_checkpoint(folder: Path, step: int) -> Path:
    """folder/ckpt_<step>.pt."""
    return folder / f"ckpt_{step:08d}.pt"


def save_step_checkpoint(folder: Path, step: int, payload: dict[str, Any], keep: int, after: int | None = None,
                         best: int | None = None, replaces: Path | None = None) -> Path:
    """Write folder/ckpt_<step>.pt atomically, point latest.pt at it, keep it and the `keep` - 1 newest before it.

    `best`: the step of the run's best checkpoint: best.pt points at it and it is never removed (kept besides the
    newest `keep` when it is older). Where this history has none (None), or its file is gone, best.pt is removed: it
    named another history's checkpoint (one resumed past, kept under its own name or set aside).

    Files numbered `step` or above, or above `after` (this history's previous save, or the step it resumed from),
    belong to another history (a resume from an older checkpoint, or past one that did not load): they are set aside
    (set_aside), never deleted or overwritten, so that a later --resume follows this one. A step saved again
    (`after` == `step`: its checkpoint has become the best since) replaces this history's own file, `replaces` (the
    one saved or resumed from): a ckpt_<step>.pt that is another file (a resume of a set-aside one) is set aside.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file where the folder should be, a read-only parent
        raise write_failure(folder, e) from None
    path = step_checkpoint(folder, step)
    first_foreign = step if after is None else min(step, after + 1)
    if path.exists() and not (after == step and replaces is not None and same_file(path, replaces)):
        set_aside(path)
    write_checkpoint(path, payload)
    point_latest(path)
    if best is None or mark_best(folder, best) is None:
        (folder / BEST).unlink(missing_ok=True)
    others = [p for p in checkpoint_files(folder) if p != path]
    for foreign in (p for p in others if step_of(p) >= first_foreign):
        set_aside(foreign)
    earlier = [p for p in others if step_of(p) < first_foreign]
    for old in pruned(earlier, keep, best):
        old.unlink(missing_ok=True)
    return path


def mark_best(folder: Path, step: int) -> Path | None:
    """best.pt points at folder/ckpt_<step>.pt, where that file is there (returned; else None)."""
    path = step_checkpoint(folder, step)
    if not path.exists():
        return None
    point(path, BEST)
    return path


def pruned(earlier: list[Path], keep: int, best: int | None) -> list[Path]:
    """Those of `earlier` (step checkpoints before a save, oldest first) that the save removes: all but the `keep` - 1
    newest, and never the best one (step `best`)."""
    return [p for p in earlier[: max(0, len(earlier) - (max(1, keep) - 1))] if step_of(p) != best]


def set_aside(path: Path) -> Path:
    """Rename a checkpoint of an abandoned history to <name>.superseded, or the first free <name>.superseded.N
    (N = 1, 2, ...) where a history abandoned earlier left one of that name: none is ever replaced."""
    target = path.with_name(path.name + SUPERSEDED)
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}{SUPERSEDED}.{n}")
    os.replace(path, target)
    return target


def step_of(path: Path) -> int:
    """The step in a ckpt_<step>.pt name."""
    return int(CKPT_PATTERN.match(path.name).group(1))  # type: ignore[union-attr]


def point_latest(path: Path) -> None:
    """latest.pt becomes the same file as `path` (see `point`)."""
    point(path, LATEST)


def point(path: Path, name: str) -> None:
    """`name` beside `path` (latest.pt, best.pt) becomes the same file as `path` (hard link, or a copy where links
    are unsupported), atomically. A failed copy (a full disk) is a one-line WriteError naming `name`, which stays as
    it was; `path` stays too. Where `name` is `path` already, nothing is done (a rename between two links of one
    file would leave the temporary link)."""
    target = path.with_name(name)
    if same_file(target, path):
        return
    tmp = path.with_name(f".{name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        link_or_copy(path, tmp)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise write_failure(target, e) from None
