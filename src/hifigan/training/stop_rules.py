"""When a training loop stops: the run's total steps or epochs, this call's time budget, or SIGINT/SIGTERM (after
the current step); under torchrun every rank stops at the same step, and a clip that no longer loads or a DataLoader
worker that died on any rank (training.worker_deaths), or a write that failed on rank 0 (training.held_writes), stops
them all before the step, agreed in one all-reduce per step."""

from __future__ import annotations

import signal
import time
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from hifigan.data.carried import Failure
from hifigan.messages.option_names import flag, setting
from hifigan.training.data_parallel import DistInfo, RunData, failed_code, failure_of, largest
from hifigan.training.held_writes import HeldWrites, stop_every_rank
from hifigan.training.reporting import say
from hifigan.training.state import TrainingState
from hifigan.training.step import Batch
from hifigan.training.stop_signal import StopOnSignal
from hifigan.training.worker_deaths import WorkerDeaths, WorkerLost

# A rank's reasons to stop other than a signal, by precedence: where the ranks' reasons differ, the last one wins.
REASONS = ("", "epochs", "time", "max_steps")


def step_limits(max_steps: int | None, epochs: int | None, state: TrainingState, steps_per_epoch: int,
                cli: bool) -> list[tuple[int, str]]:
    """The step each step or epoch limit stops the run at (from `state`'s position, `steps_per_epoch` steps an
    epoch), with its option (`cli` False: its field, option_names), earliest first (--max-steps first on a tie: it
    names the stop then)."""
    limits = [] if max_steps is None else [(max(max_steps, state.step), setting("max_steps", max_steps, cli))]
    if epochs is not None and steps_per_epoch > 0:
        left = 0 if state.epoch >= epochs else (max(0, steps_per_epoch - state.batch_in_epoch)
                                                  + (epochs - state.epoch - 1) * steps_per_epoch)
        limits.append((state.step + left, setting("epochs", epochs, cli)))
    return sorted(limits, key=lambda limit: limit[0])


def stop_plan(max_steps: int | None, epochs: int | None, max_minutes: float | None, state: TrainingState,
              steps_per_epoch: int, cli: bool) -> str:
    """Where the run will stop, in words: the step of the earliest step or epoch limit (and the later one's), the
    time budget (the settings named as `cli` says: option_names)."""
    limits = step_limits(max_steps, epochs, state, steps_per_epoch, cli)
    words = []
    if limits:
        later = "".join(f", before {option} at step {step}" for step, option in limits[1:])
        words.append(f"at step {limits[0][0]} ({limits[0][1]}{later})")
    if max_minutes is not None:
        words.append(f"after {max_minutes:g} minutes ({setting('max_minutes', max_minutes, cli, f'{max_minutes:g}')})")
    if not words:
        return (f"runs until stopped (Ctrl-C or SIGTERM: no {flag('max_steps', cli)}, {flag('epochs', cli)} or "
                f"{flag('max_minutes', cli)})")
    return "stops " + " or ".join(words) + (", whichever comes first" if len(words) > 1 else "")


class StopRules:
    """Trainer.fit's limits: `max_steps` and `epochs` count the run's, `max_minutes` this call's; inside the block
    SIGINT/SIGTERM stop the loop after the current step, and a worker's death is kept for the next fetch (`deaths`).
    Each check returns why to stop ("" to go on)."""

    def __init__(self, max_steps: int | None, epochs: int | None, max_minutes: float | None, dist: DistInfo,
                 device: torch.device, writes: HeldWrites | None = None, *, cli: bool) -> None:
        self.max_steps, self.epochs, self.max_minutes = max_steps, epochs, max_minutes
        self.cli = cli  # how its warning names the settings (option_names)
        self.dist, self.device = dist, device
        self.writes = writes or HeldWrites()  # rank 0's, whose failed write decide shares
        self.signals = StopOnSignal(announce=dist.is_main)  # the job says it once
        self.deaths = WorkerDeaths(dist.rank if dist.world_size > 1 else None)  # its loaders' workers, watched
        self.reason = ""  # why `batches` stopped
        self.started = time.monotonic()
        self.first_step: int | None = None  # the step `batches` started from

    def __enter__(self) -> StopRules:
        self.started = time.monotonic()
        self.signals.__enter__()
        self.deaths.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.deaths.__exit__(*exc)
        self.signals.__exit__(*exc)

    def batches(self, data: RunData, state: TrainingState) -> Iterator[Batch]:
        """`data`'s batches, epoch after epoch from `state`'s position, until a rule stops the loop (`reason` then
        says which); the caller trains each batch before it asks for the next. After a step each rank fetches its
        next batch unless it has a reason to stop itself, and one collective (`decide`) settles both."""
        self.reason, self.first_step = "", state.step
        upcoming = self._upcoming(data, state)
        step_began: float | None = None  # before the first step: no step's rules yet
        while True:
            reason = "" if step_began is None else self.after_step(state.step, step_began)
            item = None if reason else next(upcoming)
            if isinstance(item, str):  # an epoch's limit, or the time budget at an epoch's end
                reason, item = item, None
            elif isinstance(item, WorkerLost) and self.signals.signum is not None:
                # a worker that died of the stop signal (sent to the process group, workers included): a stop, as asked
                reason, item = signal.Signals(self.signals.signum).name, None
            self.reason = self.decide(reason, item, state.step)
            if self.reason:
                break
            step_began = time.monotonic()
            yield item
        self.reason = self.final(self.reason)
        self.deaths.warn_unsaid()  # a worker that died after the last batch: the run ends as it would have

    def total(self, state: TrainingState, steps_per_epoch: int) -> int | None:
        """The step the run is expected to stop at, for the progress bar: the earliest step or epoch limit, or,
        once a step has run, where the time budget ends at the pace so far, if that is earlier (None: unknown)."""
        limits = step_limits(self.max_steps, self.epochs, state, steps_per_epoch, self.cli)
        total = limits[0][0] if limits else None
        done = state.step - (state.step if self.first_step is None else self.first_step)
        if self.max_minutes is not None and done > 0:
            elapsed = time.monotonic() - self.started
            by_time = state.step + int(max(0.0, self.max_minutes * 60 - elapsed) * done / max(elapsed, 1e-9))
            total = by_time if total is None else min(total, by_time)
        return total

    def _upcoming(self, data: RunData, state: TrainingState) -> Iterator[Any]:
        """The batches from `state`'s position on, epoch after epoch (a Failure where a clip no longer loads), then
        why this rank stops at an epoch's start or end (a str): the epoch or step limit, or the time budget."""
        while not (reason := self.before_epoch(state.step, state.epoch)):
            yield from data.batches(state.epoch, state.batch_in_epoch)
            # the epoch's end is taken at its last step; here only a resume at it (an older checkpoint) or an epoch
            if state.batch_in_epoch:  # that restore cut
                state.end_epoch()
            if reason := self.after_epoch():
                break
        yield reason

    def warn_if_past(self, step: int) -> None:
        """A --max-steps below where the run is already: a typo'd target, not a finished run (rank 0 warns)."""
        if self.max_steps is not None and step > self.max_steps and self.dist.is_main:
            warnings.warn(f"{setting('max_steps', self.max_steps, self.cli)}: the run is at step {step} already, so "
                          f"nothing trains ({flag('max_steps', self.cli)} counts the run's steps, not this call's)",
                          stacklevel=3)

    def before_epoch(self, step: int, epoch: int) -> str:
        """Before an epoch's batches: the step or epoch limit already reached (the same on every rank)."""
        if self.max_steps is not None and step >= self.max_steps:
            return "max_steps"
        if self.epochs is not None and epoch >= self.epochs:
            return "epochs"
        return ""

    def after_step(self, step: int, step_began: float) -> str:
        """After step `step` (begun at `step_began`, monotonic), this rank's reason to stop: a signal (its name),
        the step limit, or the time budget when the next step (as long as this one) would overrun it."""
        if self.signals.signum is not None:
            return signal.Signals(self.signals.signum).name
        if self.max_steps is not None and step >= self.max_steps:
            return "max_steps"
        now = time.monotonic()
        late = self.max_minutes is not None and 2 * now - step_began - self.started >= self.max_minutes * 60
        return "time" if late else ""

    def after_epoch(self) -> str:
        """At an epoch's end, this rank's reason to stop: the time budget spent."""
        spent = self.max_minutes is not None and time.monotonic() - self.started >= self.max_minutes * 60
        return "time" if spent else ""

    def decide(self, reason: str, batch: Any, step: int) -> str:
        """Every rank's reason to stop, from each rank's `reason` ("", a signal's name or one of REASONS) in one
        all-reduce: a write rank 0 held (first: it stops every rank with its WriteError), else a signal any rank got
        (each names its own; rank 0 says one another rank got), else the REASONS that comes last. With none, a
        `batch` that is a Failure on any rank raises its error on every rank (the lowest such rank's: a ClipLoadError,
        or a WorkerDied, training.worker_deaths); a lone process keeps its own reason and raises its own Failure's."""
        own = signal.Signals[reason] if reason.startswith("SIG") else 0
        failure = batch if isinstance(batch, Failure) else None
        held = self.writes.failed
        signum, stop, failed, unwritten = largest(
            [own, REASONS.index(reason) if not own else 0, failed_code(failure, self.dist), int(held is not None)],
            self.dist, self.device)
        if unwritten:  # only rank 0 writes
            stop_every_rank(failure_of(self.dist.world_size, held, self.dist), self.dist)
        if signum:
            if not own and self.dist.is_main:
                say(f"{signal.Signals(signum).name} (sent to another rank): stopping at step {step} and saving a "
                    "checkpoint")
            return reason if own else signal.Signals(signum).name
        if stop:
            return REASONS[stop]
        failure = failure_of(failed, failure, self.dist)
        if failure is not None:
            raise failure.error()
        return ""

    def final(self, reason: str) -> str:
        """Why the loop stopped, as reported: a signal that came after the limit still names it."""
        if self.signals.signum is not None and not reason.startswith("SIG"):
            return signal.Signals(self.signals.signum).name
        return reason
