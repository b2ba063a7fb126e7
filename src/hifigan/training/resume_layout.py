"""A resume whose batch layout (batch size, process count, training clips) differs from its checkpoint's: the
position inside the cut epoch means nothing in the new order, so that epoch ends at the checkpoint."""

from __future__ import annotations

import warnings
from typing import Any

from hifigan.training.state import TrainingState


def end_cut_epoch(state: TrainingState, obj: dict[str, Any], batch_size: int, world_size: int, train_clips: int,
                  steps_per_epoch: int) -> None:
    """When checkpoint `obj`'s layout is not this run's: warn, and end the cut epoch here (its per-epoch LR decay
    with it, so the learning rate stays lr * decay^epoch); files may be gone, so its order cannot go on."""
    clips = (obj.get("data") or {}).get("train_clips", train_clips)
    layout = {"batch size": (obj.get("batch_size"), batch_size), "process count": (obj.get("world_size"), world_size),
              "training clips": (clips, train_clips)}
    changed = [f"the {name} ({'not recorded' if old is None else old} -> {new})"
               for name, (old, new) in layout.items() if old != new]
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
