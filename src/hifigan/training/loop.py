"""The training loop: epochs of steps until a limit (steps, epochs, minutes) or SIGINT/SIGTERM, with logging,
validation and checkpoints at their intervals; all ranks stop at the same step; then validate and save."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Protocol

import torch

from hifigan.training.batches import RunData
from hifigan.training.distributed import DistInfo, agree, wrap_ddp
from hifigan.training.options import TrainOptions
from hifigan.training.run_log import RunLog, StepRate, progress_bar, show_step
from hifigan.training.state import TrainingState
from hifigan.training.step import Batch, StepResult
from hifigan.training.stop_signal import StopOnSignal


class Run(Protocol):
    """What the loop uses of a run (training.trainer.Trainer), so that this module need not import it."""

    state: TrainingState
    dist: DistInfo
    device: torch.device
    options: TrainOptions
    data: RunData
    log: RunLog | None
    last_validated_step: int

    def train_step(self, batch: Batch) -> StepResult: ...

    def validate(self) -> float: ...

    def save_checkpoint(self) -> Path | None: ...

    def _open_log(self) -> None: ...

    def _dump_debug(self) -> None: ...


def fit(trainer: Run, max_steps: int | None = None, epochs: int | None = None,
        max_minutes: float | None = None) -> str:
    """Train until a limit (total steps, total epochs, minutes of this call) or SIGINT/SIGTERM; then save.

    Returns why it stopped: "max_steps", "epochs", "time" or the signal name.
    """
    state, dist = trainer.state, trainer.dist
    trainer._open_log()
    wrap_ddp(state, dist, trainer.device)
    started = time.monotonic()
    rate = StepRate(state.step)
    reason = ""
    bar = progress_bar(state.step, max_steps) if dist.is_main and trainer.options.progress else None

    def agreed(stop: bool) -> bool:  # all ranks stop at the same step
        return agree(stop, dist, trainer.device)

    with StopOnSignal() as stopper:
        try:
            while not reason:
                if max_steps is not None and state.step >= max_steps:
                    reason = "max_steps"
                    break
                if epochs is not None and state.epoch >= epochs:
                    reason = "epochs"
                    break
                for batch in trainer.data.batches(state.epoch, state.batch_in_epoch):
                    step_began = time.monotonic()
                    result = trainer.train_step(batch)
                    if bar is not None:
                        show_step(bar, result.terms)
                    after_step(trainer, result, rate)
                    stop = stopper.signum is not None
                    # Stop when the next step (as long as this one) would overrun the time budget.
                    now = time.monotonic()
                    if max_minutes is not None and 2 * now - step_began - started >= max_minutes * 60:
                        reason = "time"
                    if max_steps is not None and state.step >= max_steps:
                        reason = "max_steps"
                    if agreed(stop or bool(reason)):
                        reason = reason or (signal.Signals(stopper.signum).name if stop else "signal")
                        break
                else:
                    state.decay_learning_rates()
                    state.epoch += 1
                    state.batch_in_epoch = 0
                    if agreed(max_minutes is not None and time.monotonic() - started >= max_minutes * 60):
                        reason = "time"
            if stopper.signum is not None and not reason.startswith("SIG"):
                reason = signal.Signals(stopper.signum).name
            if trainer.last_validated_step != state.step and trainer.options.validation_interval > 0:
                trainer.validate()
            trainer.save_checkpoint()
        finally:
            if bar is not None:
                bar.close()
            trainer._dump_debug()
    return reason


def after_step(trainer: Run, result: StepResult, rate: StepRate) -> None:
    """Scalars every log_interval steps (finite steps only), validation and checkpoints at their intervals."""
    options, state = trainer.options, trainer.state
    step = state.step
    if trainer.log and result.ok and step % max(1, options.log_interval) == 0:
        scalars = {**result.terms, "lr/g": state.optim_g.param_groups[0]["lr"],
                   "lr/d": state.optim_d.param_groups[0]["lr"], "speed/steps_per_s": rate.read(step)}
        trainer.log.scalars(step, scalars, epoch=state.epoch)
    if options.validation_interval > 0 and step % options.validation_interval == 0:
        trainer.validate()
    if options.checkpoint_interval > 0 and step % options.checkpoint_interval == 0:
        trainer.save_checkpoint()
