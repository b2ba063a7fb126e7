"""A Trainer's checkpoints: what it saves to be continued exactly (`state_payload`, rank 0's `save_checkpoint`) and
how it continues from one of its own (`restore`) or starts from other weights (`init_from`). A base class, as
read_through's names are, so that trainer.py holds the run put together and its loop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hifigan.checkpoints.run_files import require_training_state
from hifigan.training.held_writes import held
from hifigan.training.init_weights import init_from
from hifigan.training.read_through import ReadThrough
from hifigan.training.resume_layout import end_cut_epoch
from hifigan.training.validation import references_logged

if TYPE_CHECKING:
    from hifigan.config import HifiganConfig
    from hifigan.training.data_parallel import DistInfo
    from hifigan.training.graphed import GraphedStep
    from hifigan.training.held_writes import HeldWrites
    from hifigan.training.options import TrainOptions
    from hifigan.training.reporting import RunLog
    from hifigan.training.validation import Validation


class Checkpointing(ReadThrough):
    """Saving and restoring over what the subclass sets (besides ReadThrough's): the run's config, options and place,
    its validation (the step its references were logged at), CUDA graph, log and writes, and what its checkpoints
    carry of the data and the settings."""

    config: HifiganConfig
    options: TrainOptions
    dist: DistInfo
    cli: bool
    validation: Validation
    graphed: GraphedStep | None
    log: RunLog | None
    writes: HeldWrites
    data_spec: dict[str, Any]
    run_settings: dict[str, Any]

    def state_payload(self) -> dict[str, Any]:
        """Everything needed to continue exactly, plus the batch layout and where the data came from."""
        return self.state.payload(batch_size=self.config.batch_size, world_size=self.dist.world_size,
                                  data=self.data_spec, run=self.run_settings, best=self.best.payload(),
                                  references=self.validation.references_step)

    def restore(self, obj: dict[str, Any], source: Path) -> str | None:
        """Continue from one of our training checkpoints (weights, optimizers, schedule, data position, RNG); a line
        to say where the best it stores has no file here (see best_checkpoint.on_disk)."""
        require_training_state(obj, source)
        self.state.restore(obj, source)
        self.validation.references_step = references_logged(obj, source, Path(self.options.out))
        if self.graphed is not None:
            self.graphed.reset()
        end_cut_epoch(self.state, obj, self.config.batch_size, self.dist.world_size, len(self.train_set),
                      self.steps_per_epoch, self.data_spec.get("train_digest"))
        return self.checkpoints.restored(obj, source, self.step, self.cli)

    def init_from(self, path: Path, discriminators: Path | None = None, obj: dict[str, Any] | None = None,
                  config_name: str | os.PathLike | None = None) -> list[str]:
        """Start from an official g_*/do_* pair or one of our checkpoints (see training.init_weights.init_from)."""
        if self.graphed is not None:
            self.graphed.reset()
        return init_from(self.state, path, discriminators, obj, config_name)

    @held  # a failed write under torchrun: held by fit until the ranks agree to stop (training.held_writes)
    def save_checkpoint(self) -> Path | None:
        """Rank 0 writes ckpt_<step>.pt atomically, points latest.pt at it (and best.pt at the best) and keeps the
        newest `keep` files and the best. A step saved already (at an interval, or the one resumed from) is written
        again where its validation made it the best since, so that best.pt's file stores itself as the best."""
        if not self.dist.is_main or not self.checkpoints.due(self.step):
            return None
        path = self.checkpoints.save(self.step, self.state_payload())
        if self.log:
            self.log.event(self.step, "checkpoint", str(path))
        return path
