"""A torchrun job of two processes on this machine (gloo on CPU), as the data-parallel tests launch it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def torchrun_two(script: str | os.PathLike, *argv: str | os.PathLike, timeout: float = 300
                 ) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc_per_node 2 SCRIPT ARGV`, one thread per process, its output captured; a job
    that hangs fails the test after `timeout` seconds (5 minutes) rather than the suite's timeout."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(Path(script)),
           *map(str, argv)]
    return subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=timeout)
