"""Marks shared by test modules."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Tests whose process tree peaks at 2.3-3.3 GB: official-size discriminators with their AdamW moments, official-size
# gradients beside the official step's, training in one or two more processes beside the worker's own ~1 GB. They
# run among the rest on the 2 pytest-xdist workers of `make test`, but never two at once (conftest.py holds
# `one_at_a_time` around each): two side by side took the suite past its 6 GB bound (measured: 6.07-7.25 GB summed
# over the workers and their children).
LARGE_MEMORY = pytest.mark.large_memory


@contextmanager
def one_at_a_time(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (created if missing): across processes, one holder at a time."""
    with open(lock_file, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
