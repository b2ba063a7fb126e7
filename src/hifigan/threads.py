"""torch's intra-op thread count for a block of work: the count is process-wide, so a library call that sets it
(bench, serve) restores the caller's on the way out instead of leaving every later computation on its choice."""

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
