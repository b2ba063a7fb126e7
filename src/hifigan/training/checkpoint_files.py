"""The checkpoint files of a training run: ckpt_<step>.pt, latest.pt, finding one to resume from, and
exporting one as official g_*/do_* files."""

from __future__ import annotations

import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

from hifigan.checkpoint import is_own_checkpoint, read_checkpoint, write_checkpoint
from hifigan.config import DEFAULT_DISCRIMINATORS
from hifigan.errors import CheckpointError
from hifigan.loading import CheckpointContents
from hifigan.official_keys import (
    OFFICIAL_DISCRIMINATORS,
    is_official_set,
    official_discriminators_dict,
    official_generator_dict,
)
from hifigan.training.parts import non_official_arguments
from hifigan.training.state import training_keys

CKPT_PATTERN = re.compile(r"^ckpt_(\d{8,})\.pt$")
LATEST = "latest.pt"


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
    raise CheckpointError(folder, "no loadable training checkpoint (ckpt_*.pt) to resume from")


def require_training_state(obj: dict[str, Any], source: Path) -> None:
    """A checkpoint to resume from must be ours and hold every training key (its discriminators by name,
    optimizers, schedulers, position)."""
    if not is_own_checkpoint(obj):
        raise CheckpointError(source, "not a training checkpoint of this package (use --init-from for official files)")
    missing = [k for k in training_keys(stored_discriminators(obj)) if k not in obj]
    if missing:
        raise CheckpointError(source, f"holds no training state (missing {', '.join(missing)}); use --init-from")


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


def save_step_checkpoint(folder: Path, step: int, payload: dict[str, Any], keep: int) -> Path:
    """Write folder/ckpt_<step>.pt atomically, point latest.pt at it and keep only the newest `keep` (>= 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ckpt_{step:08d}.pt"
    write_checkpoint(path, payload)
    point_latest(path)
    for old in checkpoint_files(folder)[: -max(1, keep)]:
        old.unlink(missing_ok=True)
    return path


def remove_stale_temporaries(folder: Path) -> None:
    """Drop the .*.tmp files a process killed while saving left behind."""
    for stale in folder.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def point_latest(path: Path) -> None:
    """latest.pt becomes the same file as `path` (hard link, or a copy where links are unsupported), atomically."""
    tmp = path.with_name(f".{LATEST}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(path, tmp)
    except OSError:
        shutil.copyfile(path, tmp)
    os.replace(tmp, path.with_name(LATEST))


def export_official(checkpoint: Path, out: Path) -> list[Path]:
    """Our checkpoint -> official g_<steps> (and do_<steps> when it holds MPD and MSD in their official layout, and
    no other discriminator: the official format has no place for others, nor its optimizer for their moments)."""
    source = CheckpointContents.read(checkpoint)
    obj = source.contents
    if source.official or "generator" not in obj:
        raise CheckpointError(checkpoint, "not a checkpoint of this package (nothing to export)")
    step = int(obj.get("step", 0))
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"g_{step:08d}"]
    write_checkpoint(written[0], official_generator_dict(source.generator_state()))
    official = is_official_set(stored_discriminators(obj))
    if not official:
        warnings.warn(f"no do_* file: the official format holds mpd and msd only, the checkpoint was trained with "
                      f"{', '.join(stored_discriminators(obj))}", stacklevel=2)
    elif changed := non_official_arguments(stored_discriminator_args(obj)):
        official = False
        warnings.warn(f"no do_* file: the official format holds the official mpd and msd, the checkpoint sets "
                      f"{', '.join(changed)}", stacklevel=2)
    if official and all(name in obj for name in OFFICIAL_DISCRIMINATORS):
        states = source.discriminator_states(OFFICIAL_DISCRIMINATORS)
        written.append(out / f"do_{step:08d}")
        write_checkpoint(written[1], official_discriminators_dict(
            states["mpd"], states["msd"], obj.get("optim_g"), obj.get("optim_d"), step, int(obj.get("epoch", 0))))
    return written
