"""A torchrun job of two processes on this machine (gloo on CPU), as the data-parallel tests launch it, and the
ranks of a gloo group forked from the test's own process, for the tests whose claims are not about torchrun."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def torchrun_two(script: str | os.PathLike, *argv: str | os.PathLike, timeout: float = 300
                 ) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc_per_node 2 SCRIPT ARGV`, one thread per process, its output captured; a job
    that hangs fails the test after `timeout` seconds (5 minutes) rather than the suite's timeout."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(Path(script)),
           *map(str, argv)]
    return subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=timeout)


def free_port() -> int:
    """A TCP port free on loopback now, for a process group's rendezvous."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fork_ranks(fn: Callable[..., None], *args: Any, nprocs: int = 2) -> None:
    """fn(rank, *args) in `nprocs` processes started from this one, joined (torch.multiprocessing raises if one
    fails). Forked where this process computes on one intra-op thread (pytest-xdist's workers: tests/conftest.py), so
    that no OpenMP pool exists for a child to inherit half of: a forked rank starts with torch and the modules this
    process has imported, a spawned one imports them again (measured: ~2.5 s of CPU for the stop rules' ranks, ~5 s
    for a training step's). Spawned otherwise (a plain `pytest` on several threads)."""
    import torch
    import torch.distributed
    import torch.multiprocessing

    assert not torch.distributed.is_initialized()
    method = "fork" if torch.get_num_threads() == 1 else "spawn"
    torch.multiprocessing.start_processes(fn, args=args, nprocs=nprocs, start_method=method)
