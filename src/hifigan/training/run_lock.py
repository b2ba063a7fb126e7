"""One training process per run folder: rank 0 holds an advisory lock (flock) on the folder itself from before the
scan to the job's end, so that a second `hifigan train` into the same folder (a resume started twice, the same
command in two terminals) is refused in one line instead of training beside the first, the two logging the same
steps and each setting the other's checkpoints aside. The lock goes with the process, however it ends: a forked
child (a DataLoader worker, a scan worker) closes its copy of the descriptor at once, so that one outliving a killed
trainer (a worker notices its parent gone only within seconds) does not hold the folder for a resume."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from hifigan.errors import HifiganError
from hifigan.files.output_folders import prepare_output_dir
from hifigan.messages.option_names import flag

try:
    import fcntl
except ImportError:  # Windows: no flock; the folder is not locked
    fcntl = None  # type: ignore[assignment]

_held: set[int] = set()  # this process's run-folder locks


def _close_in_child() -> None:
    """In a forked child: the parent's lock descriptors closed (the lock stays the parent's alone)."""
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


def lock_run_folder(out: Path, cli: bool) -> int | None:
    """The run folder `out` (created if new) locked for this process: its descriptor, to give to `release`; None
    where the platform has no flock. Refused in one line where another process holds it."""
    if fcntl is None:
        return None
    prepare_output_dir(out)
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None  # a file system without locks (some network shares): the folder is not locked
        raise HifiganError(out, "another hifigan train is running in this folder (two runs would log the same steps "
                                "and set each other's checkpoints aside): wait for it to stop, or give a new "
                                f"{flag('out', cli)}") from None
    _held.add(fd)
    return fd


def release(fd: int | None) -> None:
    """The lock of lock_run_folder given back."""
    if fd is not None:
        _held.discard(fd)
        os.close(fd)
