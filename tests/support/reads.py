"""How many times a command reads an input file, measured by what the kernel counts (Linux's /proc/self/io), not by
watching our code: reads of the worker processes this one forked are counted too, once they are reaped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

PROC_IO = Path("/proc/self/io")


def bytes_read() -> int:
    """What this process, and its children that have ended, read through read() calls so far (rchar), files and
    pipes alike."""
    return int(next(line for line in PROC_IO.read_text().splitlines() if line.startswith("rchar:")).split()[1])


def reads_of_the_extra_bytes(command: Callable[[Path], int], short: Path, long: Path) -> float:
    """How many times `command(input)` reads the bytes by which `long` is longer than `short`: all else it reads is
    the same for both runs and cancels out. `command` returns what it read beside its input that differs between the
    two (an output it reads back), to be taken off."""
    read = []
    for path in (short, long):
        before = bytes_read()
        other = command(path)
        read.append(bytes_read() - before - other)
    return (read[1] - read[0]) / (long.stat().st_size - short.stat().st_size)
