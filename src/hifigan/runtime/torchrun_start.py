"""A torchrun worker's start, before its ranks meet: which process says a refusal (the command line's, --device's),
and SIGTERM held meanwhile, so that each rank ends as its refusal says; and its end (end_worker_process). Without
torch: `python -m hifigan` holds SIGTERM before its imports, and `hifigan train` ends a worker after a Ctrl-C that cut
torch's import (which a second import would not survive)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any, NoReturn

_held: list[Any] = []  # [SIGTERM's handler before the start held it, whether a SIGTERM came meanwhile]


def launched_by_torchrun() -> bool:
    """torchrun (and torch.distributed.run) set RANK, WORLD_SIZE and MASTER_ADDR for every process it starts."""
    return all(key in os.environ for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR"))


def says_refusal(this_machine: bool = False) -> bool:
    """Whether this process prints a refusal that comes before the ranks meet: outside torchrun, always; under it,
    rank 0 alone for one every rank meets alike (the command line is the same on every rank), or, `this_machine`
    (CUDA missing on a node), each machine's local rank 0, as rank 0 may not meet it (its node has CUDA)."""
    if not launched_by_torchrun():
        return True
    return int(os.environ.get("LOCAL_RANK" if this_machine else "RANK", "0")) == 0


def hold_sigterm_at_start() -> None:
    """Under torchrun, SIGTERM is held from the process's start until `release_sigterm_at_start`. torchrun stops
    every process of a job (SIGTERM) as soon as one has ended: a rank that refuses silently and ends first would
    kill the one that says it before it has, and one that says it first would have the silent ones killed, not
    ended with their exit 2 (torchrun's summary then says SIGTERM, as if something else had stopped them)."""
    if launched_by_torchrun() and not _held and threading.current_thread() is threading.main_thread():
        _held.extend([signal.signal(signal.SIGTERM, _note), False])


def release_sigterm_at_start() -> None:
    """Once the start has nothing left to refuse: SIGTERM's handler back, and a SIGTERM that came while it was held
    delivered now (the process ends as torchrun meant); nothing when none is held."""
    if not _held:
        return
    previous, came = _held
    _held.clear()
    signal.signal(signal.SIGTERM, previous)
    if came:
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGTERM)


def linger_after_refusal(timeout: float = 10.0) -> None:
    """The process that said a refusal during the start waits (at most `timeout` s) for torchrun's SIGTERM, which
    comes once another rank has ended: ending first, it would have torchrun stop the other ranks, and one still
    starting (not yet holding SIGTERM, as on a loaded machine) would be killed instead of ending with its exit 2.
    Nothing outside torchrun, in a job of one, or once the start's hold is over."""
    if not _held or int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return
    deadline = time.monotonic() + timeout
    while not _held[1] and time.monotonic() < deadline:
        time.sleep(0.02)


def end_worker_process(code: int) -> NoReturn:
    """End a torchrun worker with `code` once its work is done and saved, without the interpreter's finalization.

    DDP keeps its process group alive until the process ends (destroy_process_group does not stop it), and a
    worker thread of that group releases each finished collective's tensors after the caller has moved on, taking
    the GIL to do so. When that release falls in the interpreter's finalization (a short last step, a busy CPU) it
    aborts the process (SIGABRT) after a successful run, and torchrun then reports the run failed and stops the other
    nodes. Skipping finalization leaves nothing undone: checkpoints and logs are closed by then, output is flushed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _note(signum: int, frame: Any) -> None:
    """SIGTERM while held: remembered for `release_sigterm_at_start`."""
    _held[1] = True
