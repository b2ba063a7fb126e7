"""Thread counts for a block of work: torch's intra-op count (`intra_op_threads`), or one thread in every pool
(`one_thread`). The counts are process-wide, so a library call that sets them (bench, serve, evaluate) restores the
caller's on the way out instead of leaving every later computation on its choice."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def intra_op_threads(count: int | None) -> Iterator[None]:
    """`count` intra-op threads inside the block (None: leave torch's as it is), the caller's count restored after."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def quota_threads() -> int | None:
    """The intra-op count where none is asked for: None (torch's, one per core of the machine), or the CPU quota's
    whole CPUs where fewer (a container limited to 2 CPUs on a 64-core node: torch counts the node's cores, and its
    threads beyond the quota are throttled for the rest of each period)."""
    from hifigan.runtime.cpus import usable_cpus

    cpus = usable_cpus()
    return cpus if cpus < torch.get_num_threads() else None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One thread for everything inside the block: torch's intra-op count, and the native pools numpy, scipy and
    torch loaded (OpenBLAS, OpenMP; threadpoolctl), restored after. A worker process's share of the CPUs, so that N
    workers do not each start N threads; and the same rounding wherever the block runs (torch's reductions round
    differently with two threads)."""
    from threadpoolctl import threadpool_limits

    with intra_op_threads(1), threadpool_limits(limits=1):
        yield
