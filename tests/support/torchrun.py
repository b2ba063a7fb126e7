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
    """fn(rank, *args) in `nprocs` processes forked from this one, joined (torch.multiprocessing raises if one
    fails). A forked rank starts with torch and the modules this process has imported; a spawned one imports them
    again (measured: ~2.5 s of CPU for the stop rules' ranks, ~5 s for a training step's). Forking is safe here:
    pytest's process runs one intra-op thread (tests/conftest.py) and has joined no process group."""
    import torch.distributed
    import torch.multiprocessing

    assert not torch.distributed.is_initialized()
    torch.multiprocessing.start_processes(fn, args=args, nprocs=nprocs, start_method="fork")
