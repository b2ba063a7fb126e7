"""How many CPUs this process may run on: the worker counts' one measure."""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: taskset, a container's or a batch job's cpuset), not the
    machine's: os.cpu_count() counts all of a 64-core host's CPUs for a job given 4, and 64 workers would contend."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS, Windows)
        return os.cpu_count() or 1
