"""Thread-count helpers for the tests (the suite's workers run one intra-op thread each: tests/conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """`count` intra-op threads inside the block, the caller's count restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def two_threads() -> contextlib.AbstractContextManager[None]:
    """Two intra-op threads while an engine is built, so a split engine cuts long inputs in two on any machine."""
    return threads(2)
