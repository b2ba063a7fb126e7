"""Worker counts follow the CPUs the process may run on (a container's or batch job's cpuset, taskset), not the
machine's: a job given one CPU of a many-core host reads its files in its own process, starting no pool."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.files import REPO

CHILD = """
import os
from hifigan.runtime.cpus import usable_cpus
from hifigan.data.scan_pool import read_files

def pid(name, settings):
    return os.getpid()

print(usable_cpus(), {p for _, p in read_files([str(i) for i in range(300)], None, pid, None, False)} == {os.getpid()})
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and two CPUs to give one")
def test_a_process_given_one_cpu_counts_one_and_reads_without_workers():
    one = min(os.sched_getaffinity(0))
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                           preexec_fn=lambda: os.sched_setaffinity(0, {one}))
    assert child.stdout.split() == ["1", "True"], child.stderr
