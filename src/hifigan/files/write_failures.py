"""What a failed write says: the one-line WriteError naming the file, its cause (a full disk, the file-size limit,
also where the writer gave no errno) and what frees it; and why a folder takes no file. Every writer's failures
read alike, atomic (hifigan.files.atomic) or not (a log, TensorBoard's events, the listening study)."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from hifigan.errors import MAKE_ROOM, WriteError, first_line

# What a write failed for when it met this process's file-size limit: EFBIG from the OS, or no errno (torch, numpy).
FILE_SIZE_LIMIT = "file size limit exceeded, see ulimit -f"

# What frees a write that failed with an errno (WriteError.remedy); another errno: OTHER_REMEDY.
REMEDIES = {errno.ENOSPC: MAKE_ROOM, errno.EDQUOT: MAKE_ROOM, errno.EISDIR: "move the folder out of its way",
            errno.EACCES: "make its folder writable", errno.EPERM: "make its folder writable",
            errno.EROFS: "make the file system writable"}
SIZE_LIMIT_REMEDY = "raise the file-size limit"
OTHER_REMEDY = "fix that"


def remedy(error: OSError) -> str:
    """What frees a write that failed with `error`, by its errno (REMEDIES, else OTHER_REMEDY)."""
    return REMEDIES.get(error.errno, OTHER_REMEDY)


def write_failure(target: str | os.PathLike, error: BaseException) -> WriteError:
    """One-line error for a failed write, naming the cause even when the writer gave no errno (numpy, torch): a
    file-size limit (RLIMIT_FSIZE) reads FILE_SIZE_LIMIT whichever writer met it. Its remedy follows the cause."""
    target = Path(target)
    if isinstance(error, OSError) and error.strerror:
        if error.errno == errno.EFBIG and _file_size_limited():
            return WriteError(target, f"cannot write ({FILE_SIZE_LIMIT})", SIZE_LIMIT_REMEDY)
        return WriteError(target, f"cannot write ({error.strerror})", remedy(error))
    with contextlib.suppress(OSError):
        stats = os.statvfs(target.parent if str(target.parent) else ".")
        if stats.f_bavail * stats.f_frsize < 1 << 20:
            return WriteError(target, "cannot write (no space left on device)", MAKE_ROOM)
    if _file_size_limited():
        return WriteError(target, f"cannot write ({FILE_SIZE_LIMIT})", SIZE_LIMIT_REMEDY)
    return WriteError(target, f"cannot write ({first_line(error)})", OTHER_REMEDY)


def _file_size_limited() -> bool:
    """Whether this process may write files only up to a size (ulimit -f, RLIMIT_FSIZE)."""
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        return resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY
    return False


def folder_reason(error: OSError, folder: Path) -> str:
    """Why no file can be made in an existing folder: the system's reason, but a folder that exists and yet takes no
    files (/proc, sysfs) says so rather than 'No such file or directory'."""
    return "no files can be created in it" if takes_nothing(error, folder) else error.strerror or str(error)


def takes_nothing(error: OSError, folder: Path) -> bool:
    """Whether creating an entry in an existing folder failed as /proc and sysfs refuse it: ENOENT."""
    return error.errno == errno.ENOENT and folder.is_dir()
