"""tests/support/heap.py, which the suite's conftest calls after every test: a process that grew past the threshold
gives the heap's free pages back, and one that did not is left alone (the trim and its page faults cost time)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.support.heap import HeapTrimmer, resident_bytes

MIB = 1 << 20


def _held_then_freed(mib: int) -> np.ndarray:
    """`mib` MiB of 64 KiB blocks (below glibc's mmap threshold: from the heap) freed below one block still held,
    so that glibc cannot give them back from the heap's top by itself; the held block."""
    blocks = [np.ones(64 * 1024, dtype=np.uint8) for _ in range(mib * 16)]
    pin = np.ones(64 * 1024, dtype=np.uint8)
    del blocks
    return pin


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc_trim")
def test_a_process_grown_past_the_threshold_gives_the_free_heap_back_and_one_that_did_not_keeps_it():
    trim = HeapTrimmer(threshold=32 * MIB)
    assert trim()  # the first call: nothing seen yet to compare with
    pin = _held_then_freed(8)
    assert not trim()  # 8 MiB held: less than the threshold
    before = resident_bytes()
    pins = [pin, _held_then_freed(96)]
    grown = resident_bytes() - before
    assert grown > 80 * MIB  # glibc kept the freed blocks
    assert trim()
    assert resident_bytes() < before + 16 * MIB  # given back
    assert not trim()  # and the next call compares with the size after that trim
    del pins
