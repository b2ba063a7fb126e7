"""How many CPUs this process may run on: the worker counts' one measure; and the share of them a container's CPU
quota gives it, the compute threads' measure."""

from __future__ import annotations

import math
import os
from pathlib import Path


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: taskset, a container's or a batch job's cpuset), not the
    machine's: os.cpu_count() counts all of a 64-core host's CPUs for a job given 4, and 64 workers would contend."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS, Windows)
        return os.cpu_count() or 1


CGROUP = Path("/sys/fs/cgroup")  # the process's cgroup, as a container sees its own


def cpu_quota(root: Path = CGROUP) -> float | None:
    """The CPUs' worth of time a container's limit gives this process per period (cgroup v2 `cpu.max`, v1
    `cpu.cfs_quota_us` over `cpu.cfs_period_us`), or None where none is set or readable. Kubernetes' CPU limit is such
    a quota, not a cpuset: the affinity of a pod limited to 2 CPUs still counts all of its node's."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):  # no cgroup v2 controller here: v1's files, or none
        pass
    try:
        quota, period = (int((root / "cpu" / name).read_text()) for name in ("cpu.cfs_quota_us", "cpu.cfs_period_us"))
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None  # v1's quota -1: no limit


def compute_cpus(root: Path = CGROUP) -> int:
    """The threads a compute pool may run without contending: usable_cpus, fewer under a CPU quota (rounded down, at
    least 1: threads beyond the quota are throttled for the rest of each period, which a server's latency shows)."""
    quota = cpu_quota(root)
    cpus = usable_cpus()
    return cpus if quota is None else max(1, min(cpus, math.floor(quota)))
