"""How many times a command reads an input file, measured by what the kernel counts, not by watching our code: the
bytes read (Linux's /proc/self/io; the worker processes this one forked are counted too, once they are reaped), or
the opens of one file (inotify), for a command that reads much else besides (a report's figure: its fonts)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import struct
from collections.abc import Callable, Iterator
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


IN_OPEN, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE = 0x20, 0x10, 0x08  # <sys/inotify.h>
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then len bytes of name)


@contextlib.contextmanager
def opens_of(path: Path) -> Iterator[list[int]]:
    """The times `path` is opened in the block, by any process (Linux's inotify), in the list given (filled when
    the block ends). A close is watched too: the kernel merges an event with the one queued just before it when
    they are the same, which open, close, open never are."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(path), IN_OPEN | IN_CLOSE_NOWRITE | IN_CLOSE_WRITE) < 0:
        raise OSError(ctypes.get_errno(), f"inotify on {path}")
    opened: list[int] = []
    try:
        yield opened
        data = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(fd, 1 << 16):
                data += chunk
        at, count = 0, 0
        while at < len(data):
            _, mask, _, length = _EVENT.unpack_from(data, at)
            count += bool(mask & IN_OPEN)
            at += _EVENT.size + length
        opened.append(count)
    finally:
        os.close(fd)
