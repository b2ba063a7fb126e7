"""DataLoader workers under a SIGTERM sent to the whole process group (training.worker_signals): real workers, real
signals. One sent by another process leaves them working (the process that started them got it too, and stops them
itself); the parent's terminate() still ends them, one stuck in __getitem__ included. Without the protection each
test fails (within a minute at most: PATIENCE) and leaves no worker behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from torch.utils.data import DataLoader, Dataset

from hifigan.training.worker_signals import TAKES_SIGTERM, leave_stop_signals_to_parent, start_workers

pytestmark = pytest.mark.skipif(not TAKES_SIGTERM, reason="torch's SIGTERM handler stays where sigwaitinfo is missing")
# Seconds a poll waits for a worker to start or end: it returns as soon as that happens, so only a failing test waits
# this long; a 2-core machine under load (~12) can take seconds to schedule a process's start or exit.
PATIENCE = 60


class WorkerPids(Dataset):
    """Item i: the pid of the worker that made it; from item `stuck` on, a worker returns only once the file `release`
    exists (never without one), and first says it is stuck where given a folder `arrived` (a file named its pid)."""

    def __init__(self, stuck: int, release: Path | None = None, arrived: Path | None = None) -> None:
        self.stuck, self.release, self.arrived = stuck, release, arrived

    def __len__(self) -> int:
        return 64

    def __getitem__(self, i: int) -> int:
        if i >= self.stuck and self.arrived is not None:
            (self.arrived / str(os.getpid())).touch()
        while i >= self.stuck and not (self.release is not None and self.release.exists()):
            time.sleep(0.01)
        return os.getpid()


def leave_stop_signals_late(worker_id: int) -> None:
    """leave_stop_signals_to_parent 0.2 s into the worker's start, after the test's first SIGTERM has come."""
    time.sleep(0.2)
    leave_stop_signals_to_parent(worker_id)


def test_a_sigterm_from_another_process_leaves_workers_working_and_the_parents_terminate_ends_them(tmp_path):
    release = tmp_path / "release"
    loader = DataLoader(WorkerPids(stuck=12, release=release), batch_size=None, num_workers=2,
                        worker_init_fn=leave_stop_signals_late)
    before = set(multiprocessing.active_children())
    running = [start_workers(loader)]  # the iterator's one reference: the `finally` drops it, which ends its workers
    workers = sorted(set(multiprocessing.active_children()) - before, key=lambda w: w.pid)
    pids = [w.pid for w in workers]
    try:
        assert len(pids) == 2
        try:
            # before the workers' worker_init_fn has run (a process group's signal may come that early), then after
            subprocess.run(["kill", "-TERM", *map(str, pids)], check=True)
            first = [next(running[0]) for _ in range(2)]
            time.sleep(0.2)
            subprocess.run(["kill", "-TERM", *map(str, pids)], check=True)
            rest = [next(running[0]) for _ in range(10)]
        except RuntimeError as e:  # torch's, from its SIGCHLD handler or the iterator
            pytest.fail(f"a SIGTERM from another process ended a worker: {e}")
        assert sorted(first) == pids and rest == first * 5  # in order, each worker in turn, both still alive
        time.sleep(0.2)  # both now stuck in __getitem__ (items 12 and 13)
        for w in workers:
            w.terminate()  # what the loader's shutdown does to a worker that does not end by itself
        deadline = time.monotonic() + PATIENCE
        for w in workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
        codes = [w.exitcode for w in workers]
        assert codes == [0, 0], f"the parent's terminate() did not end its workers stuck in __getitem__ (exit codes " \
                                f"{codes}; None: still running)"
    finally:
        # A worker that outlived terminate() returns its item and ends at the iterator's shutdown; left stuck, it
        # would hang pytest's exit, where multiprocessing terminates and then waits for every child it started.
        release.touch()
        running.clear()


ORPHANED = """
import multiprocessing, sys, time
from pathlib import Path
from torch.utils.data import DataLoader
sys.path[:0] = [{root!r}]
from tests.training.test_worker_signals import WorkerPids
from hifigan.training.worker_signals import leave_stop_signals_to_parent, start_workers
batches = start_workers(DataLoader(WorkerPids(stuck=0, arrived=Path({arrived!r})), batch_size=None, num_workers=2,
                                   worker_init_fn=leave_stop_signals_to_parent))
print(*[w.pid for w in multiprocessing.active_children()], flush=True)
time.sleep(60)
"""


def ended(pid: int) -> bool:
    """Gone, or a zombie (nothing may reap an orphan here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_worker_whose_parent_was_killed_ends_on_a_sigterm_from_anyone(tmp_path):
    """A worker stuck in __getitem__ never looks at torch's watchdog: once its parent is gone (SIGKILL) nobody else
    terminates it, so any SIGTERM (systemd's, a user's) ends it."""
    root, arrived = str(Path(__file__).parents[2]), tmp_path / "arrived"
    arrived.mkdir()
    parent = subprocess.Popen([sys.executable, "-c", ORPHANED.format(root=root, arrived=str(arrived))],
                              stdout=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    try:
        assert len(pids) == 2
        # Both stuck before their parent goes: a worker still waiting for an index would see it gone (torch's
        # watchdog) and end by itself within 5 s, SIGTERM or not.
        deadline = time.monotonic() + PATIENCE
        while len(list(arrived.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(int(f.name) for f in arrived.iterdir()) == sorted(pids), "both workers stuck in __getitem__"
        parent.kill()
        parent.wait()
        time.sleep(0.2)
        assert not any(ended(pid) for pid in pids)
        subprocess.run(["kill", "-TERM", *map(str, pids)], check=True)
        deadline = time.monotonic() + PATIENCE
        while not all(ended(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        survivors = [pid for pid in pids if not ended(pid)]
        assert survivors == [], f"workers {survivors} outlived their killed parent and a SIGTERM (killed now)"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        for pid in pids:
            if not ended(pid):
                os.kill(pid, signal.SIGKILL)
