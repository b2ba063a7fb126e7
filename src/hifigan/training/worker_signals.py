"""DataLoader workers leave Ctrl-C and SIGTERM to the process that started them, which stops after its step and saves.

A terminal's Ctrl-C, `kill -TERM -- -PGID`, systemd's stop (KillMode=control-group), SLURM's scancel or preemption
and a container's stop signal the whole process group, workers included. torch's own SIGTERM handler in a worker
(torch/csrc/DataLoader.cpp) ends it quietly when its parent sends it (the parent's terminate(), at shutdown) and
otherwise dies of it; the parent's SIGCHLD handler then raises in the middle of a step, and nothing is saved. Here a
worker keeps SIGTERM blocked and a thread of its own takes it: the parent's ends the worker as torch's handler does,
any other is left to the parent, which got it too (an orphan's ends it). Where signal.sigwaitinfo is missing (not
Linux) torch's handler stays.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

T = TypeVar("T")

TAKES_SIGTERM = hasattr(signal, "sigwaitinfo")  # the worker's thread can tell who sent a SIGTERM


def leave_stop_signals_to_parent(_: int) -> None:
    """A DataLoader's worker_init_fn: ignore SIGINT and SIGHUP; on Linux, ignore a SIGTERM unless the process that
    started this worker sends it (its terminate()) or is gone (killed: nothing else would end a worker stuck in
    __getitem__)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):  # a terminal closed: the parent saves and stops, then ends its workers
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if TAKES_SIGTERM:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # threads started from here on inherit it
        threading.Thread(target=_take_sigterm, name="hifigan-sigterm", daemon=True).start()


def _take_sigterm() -> None:
    """End this worker on a SIGTERM from the process that started it, or once that process is gone (this one's
    parent is another); a worker a fork server forked (not this project's) ends on any, as under torch's handler."""
    parent = multiprocessing.parent_process()
    starter = parent.pid if parent is not None else os.getppid()
    while True:
        sender = signal.sigwaitinfo({signal.SIGTERM}).si_pid
        if sender == starter or os.getppid() != starter:
            os._exit(0)


def start_workers(loader: Iterable[T]) -> Iterator[T]:
    """iter(`loader`), SIGTERM held (blocked) in this thread while it forks the workers: a worker inherits the mask,
    so a SIGTERM that reaches it before its worker_init_fn waits for the thread that takes it; this process's own is
    delivered to its handler as the block ends."""
    if not TAKES_SIGTERM:
        return iter(loader)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def end_workers(loader: DataLoader) -> None:
    """Stop a DataLoader's persistent workers, which otherwise wait for its next iter() as long as it lives (holding
    memory and the descriptors they inherited, a run folder's lock among them); its next iter() starts new ones.
    torch has no public call for it: its iterator's own shutdown, as at its deletion."""
    running, loader._iterator = loader._iterator, None
    if running is not None:
        running._shutdown_workers()  # type: ignore[attr-defined]
