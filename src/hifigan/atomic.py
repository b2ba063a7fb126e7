"""Atomic file output: write to a temporary name beside the target, rename when complete.

A reader never sees a half-written file, and a crash leaves the previous file in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hifigan.errors import HifiganError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success fsync it and rename it over the target."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise HifiganError(folder, "output folder does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise HifiganError(folder, f"cannot write here ({e.strerror})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the mode a plain open() would
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, target)
    except OSError as e:
        tmp_path.unlink(missing_ok=True)
        raise write_failure(target, e) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def prepare_output_dir(folder: str | os.PathLike) -> None:
    """Create an output folder, or fail with one line naming it if it cannot be created or written.

    Writability is probed by creating a temporary file: permission bits alone miss read-only mounts and root.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise HifiganError(folder, "exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HifiganError(folder, f"cannot create folder ({e.strerror})") from None
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".hifigan-probe."):
            pass
    except OSError as e:
        raise HifiganError(folder, f"folder is not writable ({e.strerror})") from None


def write_failure(target: str | os.PathLike, error: BaseException) -> HifiganError:
    """One-line error for a failed write, naming the cause even when the writer gave no errno (numpy, torch)."""
    target = Path(target)
    if isinstance(error, OSError) and error.strerror:
        return HifiganError(target, f"cannot write ({error.strerror})")
    with contextlib.suppress(OSError):
        stats = os.statvfs(target.parent if str(target.parent) else ".")
        if stats.f_bavail * stats.f_frsize < 1 << 20:
            return HifiganError(target, "cannot write (no space left on device)")
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
            return HifiganError(target, "cannot write (file size limit exceeded, see ulimit -f)")
    text = str(error).strip().splitlines()
    return HifiganError(target, f"cannot write ({text[0] if text else type(error).__name__})")


def _umask() -> int:
    """The process umask (reading it means setting it; set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
