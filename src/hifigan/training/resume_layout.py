"""A resume whose batch layout (batch size, process count, training clips) differs from its checkpoint's: the
position inside the cut epoch means nothing in the new order, so that epoch ends at the checkpoint."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from typing import Any

from hifigan.training.state import TrainingState


def clips_digest(keys: Sequence[str]) -> str:
    """A short digest of the training clips' names within the corpus (clip_names.file_key), in order: what tells
    another set of as many files from the checkpoint's."""
    return hashlib.sha256("\0".join(keys).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def end_cut_epoch(state: TrainingState, obj: dict[str, Any], batch_size: int, world_size: int, train_clips: int,
                  steps_per_epoch: int, train_digest: str | None = None) -> None:
    """When checkpoint `obj`'s layout is not this run's (`train_digest`: clips_digest of this run's training clips;
    None, or none recorded: their count alone is compared): warn, and end the cut epoch here (its per-epoch LR decay
    with it, so the learning rate stays lr * decay^epoch); files may be gone, so its order cannot go on."""
    data = obj.get("data") or {}
    clips = data.get("train_clips", train_clips)
    layout = {"batch size": (obj.get("batch_size"), batch_size), "process count": (obj.get("world_size"), world_size),
              "training clips": (clips, train_clips)}
    changed = [f"the {name} ({'not recorded' if old is None else old} -> {new})"
               for name, (old, new) in layout.items() if old != new]
    recorded = data.get("train_digest")
    if clips == train_clips and None not in (recorded, train_digest) and recorded != train_digest:
        changed.append(f"the training clips ({clips}, other files)")  # as many, not the same: each index another
    if not changed:
        return
    epoch = state.epoch
    what = (f"epoch {epoch} ends here ({state.batch_in_epoch} of its batches trained) and the learning "
            f"rates decay now, as at every epoch's end; epoch {epoch + 1} starts with the new order"
            if state.batch_in_epoch else f"epoch {epoch} starts with the new order")
    listed = " and ".join([", ".join(changed[:-1]), changed[-1]] if len(changed) > 1 else changed)
    warnings.warn(f"{listed} changed since the checkpoint: {what}", stacklevel=3)
    if state.batch_in_epoch:
        state.batch_in_epoch = steps_per_epoch
