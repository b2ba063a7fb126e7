"""A run's checkpoints as its trainer keeps them (rank 0): the step saved last and the file, the checkpoint resumed
from, the best so far and the best the last save stored, and the rule for when a step is written (again). The files
themselves follow checkpoints.run_files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hifigan.checkpoints.run_files import checkpoint_files, save_step_checkpoint
from hifigan.training.best_checkpoint import BestCheckpoint, on_disk


@dataclass
class RunCheckpoints:
    """OUT/checkpoints of one run, as this process has saved and restored them."""

    folder: Path
    keep: int  # the newest `keep` step checkpoints stay, and the best
    last_saved_step: int = -1  # the step of the newest checkpoint of this history (saved, or resumed from)
    last: Path | None = None  # the checkpoint this process wrote last
    resumed_from: Path | None = None  # the file restored, which holds last_saved_step until a save
    best: BestCheckpoint = field(default_factory=BestCheckpoint)  # the lowest validation mel L1 and its step
    saved_best: dict[str, Any] | None = None  # the best that the checkpoint of last_saved_step stores

    def restored(self, obj: dict[str, Any], source: Path, step: int, cli: bool) -> str | None:
        """The run continues from checkpoint `obj` (read from `source`) at `step`; a line to say where the best it
        stores has no file here (best_checkpoint.on_disk; `cli`: how it names --keep)."""
        self.last_saved_step, self.resumed_from = step, Path(source)
        self.best, gone = on_disk(BestCheckpoint.restored(obj), self.folder, source, cli)
        self.saved_best = self.best.payload()
        return gone

    def due(self, step: int) -> bool:
        """Whether a save at `step` writes: a step not saved yet, or one saved before its validation made it the best
        (written again, so that best.pt's file stores itself as the best)."""
        return step != self.last_saved_step or self.best.payload() != self.saved_best

    def save(self, step: int, payload: dict[str, Any]) -> Path:
        """ckpt_<step>.pt written atomically, latest.pt and best.pt pointed, the newest `keep` and the best kept
        (run_files.save_step_checkpoint); a step saved again replaces this history's own file only."""
        path = save_step_checkpoint(self.folder, step, payload, self.keep, after=self.last_saved_step,
                                    best=self.best.step, replaces=self.last or self.resumed_from)
        self.last_saved_step, self.last, self.saved_best = step, path, self.best.payload()
        return path

    def newest(self) -> Path | None:
        """The run's newest checkpoint: the one written last, else the newest file (the one resumed from)."""
        return self.last or next(reversed(checkpoint_files(self.folder)), None)
