"""The names a Trainer reads through to what it holds, so a script reads `trainer.generator` or `trainer.step`
rather than `trainer.state.generator`: the models, optimizers and schedulers and the position (its TrainingState),
the datasets, sampler and loader (its RunData), the non-finite run and the checkpoints' folder, best and last."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hifigan.training.data_parallel import RunData
    from hifigan.training.run_checkpoints import RunCheckpoints
    from hifigan.training.state import TrainingState
    from hifigan.training.step import NonfiniteGuard


class ReadThrough:
    """Read-only names over `state`, `data`, `nonfinite` and `checkpoints`, which the subclass sets."""

    state: TrainingState
    data: RunData
    nonfinite: NonfiniteGuard
    checkpoints: RunCheckpoints

    generator = property(lambda self: self.state.generator)
    discriminators = property(lambda self: self.state.discriminators)
    mpd = property(lambda self: self.state.discriminators["mpd"])
    msd = property(lambda self: self.state.discriminators["msd"])
    optim_g = property(lambda self: self.state.optim_g)
    optim_d = property(lambda self: self.state.optim_d)
    sched_g = property(lambda self: self.state.sched_g)
    sched_d = property(lambda self: self.state.sched_d)
    train_set = property(lambda self: self.data.train_set)
    valid_set = property(lambda self: self.data.valid_set)
    sampler = property(lambda self: self.data.sampler)
    loader = property(lambda self: self.data.loader)
    steps_per_epoch = property(lambda self: self.data.steps_per_epoch)
    nonfinite_run = property(lambda self: self.nonfinite.run)
    step = property(lambda self: self.state.step)
    epoch = property(lambda self: self.state.epoch)
    ckpt_dir = property(lambda self: self.checkpoints.folder)
    best = property(lambda self: self.checkpoints.best)
    last_checkpoint = property(lambda self: self.checkpoints.last)
