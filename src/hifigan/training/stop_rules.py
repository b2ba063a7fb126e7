"""When a training loop stops: the run's total steps or epochs, this call's time budget, or SIGINT/SIGTERM (after
the current step); under torchrun every rank stops at the same step (one all-reduce after each)."""

from __future__ import annotations

import signal
import time
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from hifigan.training.data_parallel import DistInfo, RunData, agree, largest
from hifigan.training.reporting import say
from hifigan.training.state import TrainingState
from hifigan.training.step import Batch
from hifigan.training.stop_signal import StopOnSignal


class StopRules:
    """Trainer.fit's limits: `max_steps` and `epochs` count the run's, `max_minutes` this call's; inside the block
    SIGINT/SIGTERM stop the loop after the current step. Each check returns why to stop ("" to go on)."""

    def __init__(self, max_steps: int | None, epochs: int | None, max_minutes: float | None, dist: DistInfo,
                 device: torch.device) -> None:
        self.max_steps, self.epochs, self.max_minutes = max_steps, epochs, max_minutes
        self.dist, self.device = dist, device
        self.signals = StopOnSignal(announce=dist.is_main)  # the job says it once
        self.reason = ""  # why `batches` stopped
        self.started = time.monotonic()

    def __enter__(self) -> StopRules:
        self.started = time.monotonic()
        self.signals.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.signals.__exit__(*exc)

    def batches(self, data: RunData, state: TrainingState) -> Iterator[Batch]:
        """`data`'s batches, epoch after epoch from `state`'s position, until a rule stops the loop (`reason` then
        says which); the caller trains each batch before it asks for the next."""
        self.reason = ""
        while not self.reason:
            self.reason = self.before_epoch(state.step, state.epoch)
            if self.reason:
                break
            for batch in data.batches(state.epoch, state.batch_in_epoch):
                step_began = time.monotonic()
                yield batch
                self.reason = self.after_step(state.step, step_began)
                if self.reason:
                    break
            else:  # the epoch's end is taken at its last step; here only a resume at it (an older checkpoint) or
                if state.batch_in_epoch:  # an epoch that restore cut
                    state.end_epoch()
                self.reason = self.after_epoch()
        self.reason = self.final(self.reason)

    def warn_if_past(self, step: int) -> None:
        """A --max-steps below where the run is already: a typo'd target, not a finished run (rank 0 warns)."""
        if self.max_steps is not None and step > self.max_steps and self.dist.is_main:
            warnings.warn(f"--max-steps {self.max_steps}: the run is at step {step} already, so nothing trains "
                          "(--max-steps counts the run's steps, not this call's)", stacklevel=3)

    def before_epoch(self, step: int, epoch: int) -> str:
        """Before an epoch's batches: the step or epoch limit already reached (the same on every rank)."""
        if self.max_steps is not None and step >= self.max_steps:
            return "max_steps"
        if self.epochs is not None and epoch >= self.epochs:
            return "epochs"
        return ""

    def after_step(self, step: int, step_began: float) -> str:
        """After step `step` (begun at `step_began`, monotonic): a signal, the step limit, or the time budget when
        the next step (as long as this one) would overrun it; agreed by every rank, which all name the signal that
        any of them got (rank 0 says so when it did not get it itself)."""
        now = time.monotonic()
        late = self.max_minutes is not None and 2 * now - step_began - self.started >= self.max_minutes * 60
        done = self.max_steps is not None and step >= self.max_steps
        late, done, signum = largest([late, done, self.signals.signum or 0], self.dist, self.device)
        if signum and self.signals.signum is None and self.dist.is_main:
            say(f"{signal.Signals(signum).name} (sent to another rank): stopping at step {step} and saving a "
                "checkpoint")
        if signum:
            return signal.Signals(self.signals.signum or signum).name
        return "max_steps" if done else "time" if late else ""

    def after_epoch(self) -> str:
        """At an epoch's end: the time budget spent, agreed by every rank."""
        spent = self.max_minutes is not None and time.monotonic() - self.started >= self.max_minutes * 60
        return "time" if agree(spent, self.dist, self.device) else ""

    def final(self, reason: str) -> str:
        """Why the loop stopped, as reported: a signal that came after the limit still names it."""
        if self.signals.signum is not None and not reason.startswith("SIG"):
            return signal.Signals(self.signals.signum).name
        return reason
