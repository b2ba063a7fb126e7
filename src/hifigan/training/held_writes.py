"""Rank 0's writes under torchrun (the log, checkpoints): one that fails (a full disk) is held, not raised by rank 0
alone, until the ranks next agree (each step's StopRules.decide, a validation, the end of fit), where every rank
stops with its one line; raised alone, it left the other ranks in a collective that rank 0 never joined."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import torch

from hifigan.data.carried import Failure
from hifigan.errors import WriteError
from hifigan.training.data_parallel import DistInfo, first_failure, from_main, reported_once

T = TypeVar("T")


@dataclass(frozen=True)
class FailedWrite(Failure):
    """Rank 0's write that failed (a WriteError's file, problem and remedy), as the ranks pass it to each other."""

    remedy: str

    def error(self) -> WriteError:
        return WriteError(self.path, self.problem, self.remedy)


class HeldWrites:
    """Rank 0's writes, run through `run`; inside `holding(True)` a failed one is kept in `failed`, not raised."""

    def __init__(self) -> None:
        self.hold = False
        self.failed: FailedWrite | None = None

    @contextlib.contextmanager
    def holding(self, hold: bool) -> Iterator[HeldWrites]:
        """In the block (`hold`: a job of several ranks), a failed write is held; after it, writes run again."""
        self.hold, self.failed = hold, None
        try:
            yield self
        finally:
            self.hold, self.failed = False, None

    def run(self, write: Callable[[], T]) -> T | None:
        """`write()`; while holding, a WriteError it raises is kept and every later write is skipped (None), as a
        lone process, which raises it, writes nothing more."""
        if self.failed is not None:
            return None
        try:
            return write()
        except WriteError as e:
            if not self.hold:
                raise
            self.failed = FailedWrite(e.path, e.problem, e.remedy)
            return None

    def share(self, dist: DistInfo) -> None:
        """One collective (a broadcast): a write rank 0 held stops every rank here, with its one line."""
        failed = from_main(self.failed, dist) if self.hold else None
        if failed is not None:
            stop_every_rank(failed, dist)


def stop_every_rank(failed: FailedWrite, dist: DistInfo) -> NoReturn:
    """Rank 0's failed write, which every rank has, raised: rank 0 says it (hifigan.errors.ReportedElsewhere)."""
    raise reported_once(failed.error(), dist) from None


def held(method: Callable[..., T]) -> Callable[..., T | None]:
    """A method of an object with `writes` (a Trainer) that writes: run through `writes.run`."""
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> T | None:
        return self.writes.run(lambda: method(self, *args, **kwargs))
    return run


def stop_on_failure(failure: Failure | None, writes: HeldWrites, dist: DistInfo, device: torch.device) -> None:
    """One collective (first_failure): every rank stops when rank 0 held a write (its WriteError) or a rank has a
    `failure` (the lowest rank's, as its error: a ClipLoadError, a WorkerDied)."""
    failure = first_failure(failure or writes.failed, dist, device)
    if isinstance(failure, FailedWrite):
        stop_every_rank(failure, dist)
    if failure is not None:
        raise failure.error()
