"""The heap's free pages given back to the OS between tests (glibc keeps them), once the process has grown enough
for it to matter: a trim after every test cost ~8 ms of system time each (the pages given back, then faulted in
again by the next test)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

TRIM_ABOVE = 256 << 20  # bytes a process may grow past its smallest size since the last trim before the next one
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform == "linux" else None
_TRIM = getattr(_LIBC, "malloc_trim", None)


def resident_bytes() -> int:
    """This process's resident set, from /proc/self/statm (its second field, in pages)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class HeapTrimmer:
    """malloc_trim where the process is more than `threshold` bytes larger than its smallest size since the last
    trim, so that it holds at most that much of a past test's peak."""

    def __init__(self, threshold: int = TRIM_ABOVE) -> None:
        self.threshold = threshold
        self.floor = 0  # the smallest resident size seen since the last trim (none yet: the first call trims)

    def __call__(self) -> bool:
        """Trim if the process has grown past the threshold; whether it trimmed."""
        if _TRIM is None:
            return False
        now = resident_bytes()
        self.floor = min(self.floor, now)
        if now - self.floor <= self.threshold:
            return False
        _TRIM(0)
        self.floor = resident_bytes()
        return True
