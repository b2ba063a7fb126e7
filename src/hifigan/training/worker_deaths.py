"""A DataLoader worker that dies mid-run (the kernel's out-of-memory killer, a stray SIGKILL) stops the run between
two steps, the step reached saved, with one line that says which worker died and how (WorkerDied, exit 3).

Left to torch, the death raises in whatever the main process runs when its SIGCHLD comes (torch's handler): a step
half done, a checkpoint half written (reported as that write's failure), or it shows as the loader's RuntimeError or
a worker's socket reset. While a run's fit watches (`WorkerDeaths`), the handler only records which watched worker
died; the loader's next fetch (`fetched`) hands the death on as an item, a WorkerLost, which the ranks agree on as
on a clip that no longer loads (training.stop_rules), and a fetch that waits for a batch when it comes is cut short.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import resource_sharer
from pathlib import Path
from typing import Any, TypeVar

from hifigan.data.carried import Failure
from hifigan.errors import HifiganError
from hifigan.messages.option_names import setting
from hifigan.training.stop_signal import is_main_thread
from hifigan.training.worker_signals import start_workers

T = TypeVar("T")

# What a worker's death by these signals most often means (torch's own hint for SIGBUS: its shared memory).
CAUSES = {"SIGKILL": "often the out-of-memory killer",
          "SIGBUS": "often a full /dev/shm, the shared memory workers hand batches over in"}
SETTLE_S = 1.0  # how long a fetch that failed waits for its worker's death to show (a socket closes first)


class WorkerDied(HifiganError):
    """A DataLoader worker of a run died (killed, or it exited with an error): the run stopped between steps.
    `cause`: what the death most often means; `fewer`: the worker count to resume with (None: the count is not the
    likely cause)."""

    exit_code = 3

    def __init__(self, path: str | os.PathLike | None, problem: str, cause: str = "", fewer: int | None = None
                 ) -> None:
        super().__init__(path, problem)
        self.cause, self.fewer = cause, fewer

    def __reduce__(self) -> tuple:
        return type(self), (self.path, self.problem, self.cause, self.fewer)

    def carried(self) -> WorkerLost:
        """This death as the ranks pass it on."""
        return WorkerLost(self.path, self.problem, self.cause, self.fewer)

    def stopped(self, checkpoint: Path | None, step: int, run: Path, cli: bool) -> WorkerDied:
        """This error as the run that it stopped reports it: what the checkpoint kept, and how to go on (`cli` False:
        as a Python caller resumes, option_names)."""
        saved = f"checkpoint {checkpoint} holds step {step}" if checkpoint else "no checkpoint written"
        resume = setting("resume", run, cli)
        if self.fewer is not None:
            resume += f" with fewer workers, {setting('num_workers', self.fewer, cli)}"
        return WorkerDied(self.path, f"{self.problem} ({self.cause}{'; ' if self.cause else ''}{saved}: {resume})",
                          self.cause, self.fewer)


@dataclass(frozen=True)
class WorkerLost(Failure):
    """A worker's death (WorkerDied's fields) as a loader hands it on and the ranks pass it to each other."""

    cause: str
    fewer: int | None

    def error(self) -> WorkerDied:
        return WorkerDied(self.path, self.problem, self.cause, self.fewer)


def lost(pid: int, code: int, workers: int, rank: int | None) -> WorkerLost:
    """The death of worker `pid` (one of its loader's `workers`; of `rank` where a job has several), as its exit code
    says it (a Process's: -N for signal N)."""
    who = f"DataLoader worker (pid {pid}{'' if rank is None else f' of rank {rank}'})"
    if code >= 0:
        return WorkerLost(None, f"{who} exited with status {code}", "", None)
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    cause = CAUSES.get(name, "")
    return WorkerLost(None, f"{who} was killed by {name}", cause, workers // 2 if cause else None)


class _Cut(BaseException):
    """Raised by the SIGCHLD handler into a fetch that waits for a worker found dead (BaseException: torch's
    loader, which catches Exception, lets it through)."""


class WorkerDeaths:
    """While a run's fit runs (the block), the deaths of the workers its loaders started (`fetched` adds them), each
    recorded as a WorkerLost; `rank`: the process's, named where a job has several. The SIGCHLD handler (the main
    thread's) wraps the one before (torch's), whose error it drops: that is the death it has just recorded."""

    def __init__(self, rank: int | None = None) -> None:
        self.rank = rank
        self.workers: dict[int, Any] = {}  # pid -> multiprocessing.Process, while it runs
        self.counts: dict[int, int] = {}  # pid -> how many workers its loader has
        self.deaths: dict[int, WorkerLost] = {}  # pid -> its death, in the order they were found
        self.fetching: frozenset[int] = frozenset()  # the workers of the loader a fetch waits for now
        self._previous: Any = None
        self._pid = os.getpid()
        self._hook: Any = None

    def __enter__(self) -> WorkerDeaths:
        self._pid = os.getpid()
        _watches.append(self)
        self._hook = sys.excepthook
        sys.excepthook = self._excepthook
        return self

    def __exit__(self, *exc: Any) -> None:
        _watches.remove(self)
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._hook
        if self._previous is not None and signal.getsignal(signal.SIGCHLD) == self._handle:
            signal.signal(signal.SIGCHLD, self._previous)
        self._previous = None

    def _excepthook(self, kind: type[BaseException], error: BaseException, tb: Any) -> None:
        """sys.excepthook, less multiprocessing's descriptor-sharing thread's error where a worker died as a batch's
        file descriptor was handed over (a broken pipe, a reset, an EOF): that death is said in the run's one line.
        multiprocessing.resource_sharer passes it to sys.excepthook itself, as a traceback on stderr."""
        frames = traceback.extract_tb(tb, limit=1)
        if not (isinstance(error, (OSError, EOFError)) and frames and frames[0].filename == resource_sharer.__file__):
            (self._hook or sys.__excepthook__)(kind, error, tb)

    def add(self, workers: Iterable[Any]) -> frozenset[int]:
        """Watch `workers` (a loader's processes) from now on; their pids. The first call sets the handler, over
        torch's (set as the loader started)."""
        workers = list(workers)
        for worker in workers:
            if worker.pid not in self.deaths:
                self.workers[worker.pid] = worker
                self.counts[worker.pid] = len(workers)
        if workers and self._previous is None and hasattr(signal, "SIGCHLD") and is_main_thread():
            self._previous = signal.signal(signal.SIGCHLD, self._handle)
        return frozenset(worker.pid for worker in workers)

    def look(self) -> None:
        """Record each watched worker that has ended with an error or a signal (reaping it: torch's loader and
        multiprocessing read its exit code from its Process after that); one that ended well is no longer
        watched. A look may run inside another (a second SIGCHLD's handler): each death is taken by one of them."""
        for pid, worker in list(self.workers.items()):
            code = worker.exitcode
            if code is None or self.workers.pop(pid, None) is None:
                continue
            if code != 0:
                self.deaths[pid] = lost(pid, code, self.counts[pid], self.rank)

    def first(self, pids: frozenset[int]) -> WorkerLost | None:
        """The first death found among `pids`, looking again now; None where they all run."""
        self.look()
        return next((death for pid, death in self.deaths.items() if pid in pids), None)

    def call(self, fetch: Callable[[], T], pids: frozenset[int]) -> T | WorkerLost:
        """fetch() (a loader's start or its next batch, which may wait for the workers `pids`), or the first death
        among them: one found before, or while it waits (the wait cut short), or behind an error torch raises for a
        worker gone ("DataLoader worker (pid(s) N) exited unexpectedly", a socket reset: it may show just before the
        process ends, so it is given SETTLE_S)."""
        if (death := self.first(pids)) is not None:
            return death
        try:
            try:
                self.fetching = pids
                return fetch()
            finally:
                self.fetching = frozenset()
        except _Cut:  # the handler found one of `pids` dead
            pass
        except (RuntimeError, OSError):
            deadline = time.monotonic() + SETTLE_S
            while self.first(pids) is None:
                if time.monotonic() >= deadline:
                    raise  # no worker gone: torch's error is another's
                time.sleep(0.01)
        found = self.first(pids)
        assert found is not None  # the handler's cut, or the wait above, found it
        return found

    def warn_unsaid(self) -> None:
        """A death the run ended without stopping for (a limit or a signal came first): a warning each."""
        self.look()
        for death in self.deaths.values():
            warnings.warn(f"{death.problem}{f' ({death.cause})' if death.cause else ''}, after the run's last batch "
                          "was fetched: the run ended as it would have", stacklevel=2)

    def _handle(self, signum: int, frame: Any) -> None:
        if os.getpid() != self._pid:
            return  # a forked child's copy of the handler
        self.look()
        if self.fetching & self.deaths.keys():
            self.fetching = frozenset()  # once: the fetch ends here
            raise _Cut
        if callable(self._previous):
            try:
                self._previous(signum, frame)
            except RuntimeError:  # torch's: a worker of a loader not watched, which that loader will meet itself
                pass


_watches: list[WorkerDeaths] = []  # the run's, while its fit runs (SIGCHLD's handler is the process's)


def fetched(loader: Iterable[T]) -> Iterator[T | WorkerLost]:
    """`loader`'s batches (its workers started: start_workers), until one of its workers has died while a run
    watches (WorkerDeaths): from then on that death, as an item, and never an end. A persistent loader's start waits
    for each worker too (it resumes them): it is watched as a fetch is."""
    watch = _watches[-1] if _watches else None
    if watch is None:
        yield from start_workers(loader)
        return
    resumed = watch.add(_workers_of(getattr(loader, "_iterator", None)))  # a persistent loader's, from before
    started = watch.call(lambda: start_workers(loader), resumed)
    death = started if isinstance(started, WorkerLost) else None
    if death is None:
        own = watch.add(_workers_of(started))
        while not isinstance(item := watch.call(lambda: next(started, _END), own), WorkerLost):
            if item is _END:
                return
            yield item
        death = item
    while True:
        yield death


def started(loader: Iterable[T]) -> Iterator[T]:
    """iter(`loader`) (start_workers: a persistent loader's workers) ahead of its first pass, watched from now on where
    a run watches: `fetched(loader)`, which resumes them, hands on a death among them, one before it too."""
    batches = start_workers(loader)
    if _watches:
        _watches[-1].add(_workers_of(batches))
    return batches


_END = object()  # no batch left


def _workers_of(batches: Any) -> list[Any]:
    """The worker processes of a DataLoader's iterator (torch's multiprocessing one; none for another, or None)."""
    return list(getattr(batches, "_workers", ()))
