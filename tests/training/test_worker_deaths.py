"""A DataLoader worker that dies while a run watches (training.worker_deaths): real workers, real SIGKILLs. Its
death is recorded, not raised in whatever the main process runs then (torch's SIGCHLD handler would raise in a step
or a checkpoint's write), and the loader's next fetch hands it on; a fetch already waiting for the dead worker's
batch is cut short, not left to torch's 5 s check. The whole run's stop and its line: test_train_faults."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from torch.utils.data import DataLoader

from hifigan.training.worker_deaths import WorkerDeaths, WorkerDied, WorkerLost, fetched, lost
from hifigan.training.worker_signals import leave_stop_signals_to_parent
from tests.training.test_worker_signals import WorkerPids


def persistent_loader(stuck: int, release: Path, items: int = 64) -> DataLoader:
    """Two persistent workers (as a run's), each item its worker's pid, the `items` first items an epoch; from item
    `stuck` on a worker returns only once `release` exists."""
    return DataLoader(WorkerPids(stuck=stuck, release=release), batch_size=None, sampler=range(items), num_workers=2,
                      worker_init_fn=leave_stop_signals_to_parent, persistent_workers=True)


def ended(loader: DataLoader, release: Path) -> None:
    """Let stuck workers return and end them (the iterator's own shutdown, as RunData.end_workers)."""
    release.touch()
    loader._iterator._shutdown_workers()


def test_a_worker_killed_between_fetches_is_recorded_and_the_next_fetch_hands_it_on(tmp_path):
    release = tmp_path / "release"
    loader = persistent_loader(2, release)
    with WorkerDeaths() as deaths:
        items = fetched(loader)
        try:
            got = [next(items), next(items)]  # items 0 and 1, one from each worker
            pids = [w.pid for w in loader._iterator._workers]
            assert got == pids
            os.kill(pids[1], signal.SIGKILL)
            time.sleep(0.5)  # "a step": torch's SIGCHLD handler raised its RuntimeError here
            death = next(items)
            assert death == WorkerLost(None, f"DataLoader worker (pid {pids[1]}) was killed by SIGKILL",
                                       "often the out-of-memory killer", 1)
            assert next(items) == death, "the death again, never an end of the epoch"
        finally:
            ended(loader, release)
        handler = signal.getsignal(signal.SIGCHLD)
    assert handler == deaths._handle and signal.getsignal(signal.SIGCHLD) != handler, "torch's handler back"


def test_a_worker_killed_while_a_fetch_waits_for_its_batch_cuts_the_wait_short(tmp_path):
    release = tmp_path / "release"
    loader = persistent_loader(2, release)
    with WorkerDeaths(rank=1):
        items = fetched(loader)
        try:
            next(items), next(items)
            first = loader._iterator._workers[0].pid  # item 2's worker, stuck in __getitem__
            threading.Timer(0.3, os.kill, (first, signal.SIGKILL)).start()
            began = time.monotonic()
            death = next(items)
            waited = time.monotonic() - began
        finally:
            ended(loader, release)
    assert death.problem == f"DataLoader worker (pid {first} of rank 1) was killed by SIGKILL"
    assert 0.3 <= waited < 2, f"waited {waited:.1f} s (torch looks at its workers every 5 s)"


def test_a_worker_killed_at_an_epochs_end_is_the_next_epochs_first_item(tmp_path):
    """A persistent loader's start waits for each worker to resume (torch's iter()): a dead one never does."""
    release = tmp_path / "release"
    loader = persistent_loader(64, release, items=4)
    with WorkerDeaths():
        try:
            assert len(list(fetched(loader))) == 4
            first = loader._iterator._workers[0].pid
            os.kill(first, signal.SIGKILL)
            time.sleep(0.2)
            began = time.monotonic()
            death = next(fetched(loader))
            assert time.monotonic() - began < 2 and death.problem.startswith(f"DataLoader worker (pid {first})")
        finally:
            ended(loader, release)


class LookedAgain:
    """A worker's Process whose exit code, the first time a look reads it, lets another look run first: a second
    worker's SIGCHLD, whose handler runs inside the first's (two workers that end together, as at a shutdown)."""

    def __init__(self, process: multiprocessing.Process, deaths: WorkerDeaths) -> None:
        self.process, self.deaths, self.pid, self.nested = process, deaths, process.pid, False

    @property
    def exitcode(self) -> int | None:
        if not self.nested:
            self.nested = True
            self.deaths.look()
        return self.process.exitcode


def test_a_look_inside_a_look_records_each_death_once():
    """It raised KeyError from the SIGCHLD handler (the inner look had taken the worker the outer one went on to
    remove) as a validation pass ended its two workers: in two of three 40-step runs validating every 2 steps on a
    loaded 2-core machine."""
    processes = [multiprocessing.get_context("fork").Process(target=os._exit, args=(code,)) for code in (1, 2)]
    for process in processes:
        process.start()
        process.join()
    with WorkerDeaths() as deaths:
        deaths.add([LookedAgain(process, deaths) for process in processes])
        deaths.look()
    assert deaths.workers == {}
    assert deaths.deaths == {p.pid: lost(p.pid, code, 2, None) for p, code in zip(processes, (1, 2))}


def test_what_a_death_says_and_its_exit_code():
    assert lost(41, 1, 4, None) == WorkerLost(None, "DataLoader worker (pid 41) exited with status 1", "", None)
    bus = lost(42, -signal.SIGBUS, 4, 3)
    assert (bus.problem, bus.fewer) == ("DataLoader worker (pid 42 of rank 3) was killed by SIGBUS", 2)
    assert lost(43, -signal.SIGSEGV, 4, None).error().stopped(Path("c.pt"), 9, Path("runs/x"), cli=True).problem == (
        "DataLoader worker (pid 43) was killed by SIGSEGV (checkpoint c.pt holds step 9: --resume runs/x)")
    error = lost(44, -signal.SIGKILL, 1, None).error().stopped(Path("c.pt"), 9, Path("runs/x"), cli=False)
    assert isinstance(error, WorkerDied) and error.exit_code == 3
    assert str(error) == ("DataLoader worker (pid 44) was killed by SIGKILL (often the out-of-memory killer; "
                          "checkpoint c.pt holds step 9: resume=Path('runs/x') with fewer workers, num_workers=0)")


@pytest.fixture(autouse=True)
def _no_worker_left():
    """Every worker a test started has ended by its end (the kill's target, and the other by the shutdown)."""
    import multiprocessing

    yield
    assert multiprocessing.active_children() == []



HANDOFF_CUT = """
import os, socket, sys, time
from multiprocessing import resource_sharer
from hifigan.training.worker_deaths import WorkerDeaths

def cut():  # a worker killed mid-handoff: it connects to the sharing thread, then is gone
    address = resource_sharer._resource_sharer._address
    with socket.socket(socket.AF_UNIX if isinstance(address, str) else socket.AF_INET) as peer:
        peer.connect(address)

shared = resource_sharer.DupFd(os.open(os.devnull, os.O_RDONLY))  # starts the thread, as a worker's batch does
with WorkerDeaths():
    cut()
    time.sleep(1.0)  # the thread takes the connection at once: a second is room on a loaded machine
    sys.excepthook(ValueError, ValueError("another error"), None)
sys.stderr.write("-- watch ended --\\n")
cut()
time.sleep(1.0)
"""


def test_a_handoff_cut_by_a_dying_worker_prints_no_traceback_while_a_run_watches():
    """multiprocessing's descriptor-sharing thread (resource_sharer: it hands a batch's file descriptor to the
    worker that asks) passes a broken connection to sys.excepthook itself: a traceback on stderr beside the run's one
    line (seen in a full run, a worker SIGKILLed as a save was written). Watched, it is dropped; another error still
    reaches the hook, and once the watch ends the same cut is a traceback again."""
    done = subprocess.run([sys.executable, "-c", HANDOFF_CUT], capture_output=True, text=True, timeout=60)
    watched, after = done.stderr.split("-- watch ended --\n")
    assert done.returncode == 0 and "Traceback" not in watched, watched
    assert watched.rstrip().endswith("ValueError: another error")
    assert after.count("Traceback") == 1 and "resource_sharer.py" in after, after
