"""How many CPUs this process may keep busy: the one measure of every count of workers and compute threads (the
CPUs it may run on, fewer under a container's CPU quota)."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")  # the process's cgroup, as a container sees its own


def usable_cpus(root: Path | None = None) -> int:
    """The CPUs this process may keep busy: those it may run on (its affinity: taskset, a container's or a batch
    job's cpuset), not the machine's (os.cpu_count() counts all of a 64-core host's CPUs for a job given 4), and
    fewer under a CPU quota (`root`, default CGROUP: its whole CPUs, at least 1): a worker or thread beyond the quota
    is throttled for the rest of each period, so more of them only contend. Kubernetes' CPU limit is such a quota."""
    quota = cpu_quota(root)
    cpus = _affinity()
    return cpus if quota is None else max(1, min(cpus, math.floor(quota)))


def _affinity() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS, Windows)
        return os.cpu_count() or 1


def cpu_quota(root: Path | None = None) -> float | None:
    """The CPUs' worth of time a container's limit gives this process per period (cgroup v2 `cpu.max`, v1
    `cpu.cfs_quota_us` over `cpu.cfs_period_us`; `root` laid out as CGROUP, its default), or None where none is set
    or readable. Kubernetes' CPU limit is such a quota, not a cpuset: the affinity of a pod limited to 2 CPUs still
    counts all of its node's."""
    root = CGROUP if root is None else root
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
