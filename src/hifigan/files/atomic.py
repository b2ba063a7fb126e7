"""Atomic file output: write to a temporary name beside the target, rename when complete.

A reader never sees a half-written file, and a crash leaves the previous file in place.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from hifigan.errors import MAKE_ROOM, HifiganError, WriteError, first_line

# What a write failed for when it met this process's file-size limit: EFBIG from the OS, or no errno (torch, numpy).
FILE_SIZE_LIMIT = "file size limit exceeded, see ulimit -f"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success fsync it and rename it over the target."""
    with atomic_paths([target]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(targets: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Yield a temporary path beside each target; once the block has written them all, fsync each and rename each
    over its target. Files written as a unit (official g_/do_ pairs): a failure leaves none of them half done, and a
    rename that fails puts back the previous files the earlier renames replaced (kept meanwhile as backups)."""
    targets = [Path(t) for t in targets]
    temps: list[Path] = []
    backups: dict[Path, Path] = {}  # target -> a second name of its previous file, while a later rename may fail
    replaced: list[tuple[Path, bool]] = []  # (target, whether it existed before)
    try:
        for target in targets:
            temps.append(_temporary_beside(target))
        try:
            yield temps
        except OSError as e:  # the writer's own failure (a full disk): named after the file it was writing
            written = next((t for tmp, t in zip(temps, targets) if e.filename and Path(e.filename) == tmp), None)
            raise write_failure(written or targets[0], e) from None
        for tmp, target in zip(temps, targets):
            _complete(tmp, target)
        for target in targets[:-1]:  # nothing can fail after the last rename: its target needs no backup
            if (backup := _backup(target)) is not None:
                backups[target] = backup
        for tmp, target in zip(temps, targets):
            existed = os.path.lexists(target)
            _replace(tmp, target)
            replaced.append((target, existed))
    except BaseException:
        _undo(replaced, backups)
        for path in temps:
            path.unlink(missing_ok=True)
        raise
    for folder in dict.fromkeys(_folder(t) for t in targets):
        fsync_folder(folder)
    if len(targets) > 1:  # the backups: ours, and any a process killed between its renames left
        for target in targets:
            _remove_backups(target)


BACKUP_SUFFIX = ".old.tmp"  # ends in .tmp: hidden, and among the stale temporaries a run folder drops


def _backup(target: Path) -> Path | None:
    """A hidden second name, .NAME.XXXXXXXX.old.tmp, for the target's previous file (a hard link, or a copy where
    links are refused); None where there is nothing to keep (no target, or a folder, which no rename replaces)."""
    try:
        if stat.S_ISDIR(os.lstat(target).st_mode):
            return None
    except FileNotFoundError:
        return None
    while True:
        backup = target.with_name(f".{target.name}.{secrets.token_hex(4)}{BACKUP_SUFFIX}")
        try:
            link_or_copy(target, backup)
            return backup
        except FileExistsError:
            continue
        except OSError as e:
            backup.unlink(missing_ok=True)
            raise write_failure(target, e) from None


def link_or_copy(source: Path, name: Path) -> None:
    """`name` becomes a second name of `source`: a hard link, or a copy where links are refused (FAT, some network
    file systems); FileExistsError where `name` is taken."""
    try:
        os.link(source, name, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:
        shutil.copy2(source, name, follow_symlinks=False)


def _undo(replaced: list[tuple[Path, bool]], backups: dict[Path, Path]) -> None:
    """After a failed rename: each replaced target gets its previous file back, or goes where it had none. A backup
    that cannot be put back stays beside its target; the others go."""
    for target, existed in replaced:
        if target in backups:
            with contextlib.suppress(OSError):
                os.replace(backups.pop(target), target)
        elif not existed:
            target.unlink(missing_ok=True)
    done = {target for target, _ in replaced}
    for target, backup in backups.items():
        if target not in done:
            backup.unlink(missing_ok=True)
    for folder in dict.fromkeys(_folder(t) for t in done):
        fsync_folder(folder)


def _remove_backups(target: Path) -> None:
    """Remove the target's backups (.NAME.XXXXXXXX.old.tmp), once a complete new file has replaced it."""
    name = re.compile(re.escape(f".{target.name}.") + r"[0-9a-f]{8}" + re.escape(BACKUP_SUFFIX))
    for backup in _folder(target).glob(f".{glob.escape(target.name)}.*{BACKUP_SUFFIX}"):
        if name.fullmatch(backup.name):
            backup.unlink(missing_ok=True)


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def _temporary_beside(target: Path) -> Path:
    """An empty hidden temporary file in the target's folder (a rename within one file system is atomic)."""
    folder = _folder(target)
    if not folder.is_dir():
        raise HifiganError(folder, "output folder does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise WriteError(folder, f"cannot write here ({_folder_reason(e, folder)})", _remedy(e)) from None
    os.close(fd)
    return Path(tmp)


def _complete(tmp: Path, target: Path) -> None:
    """Give the written temporary file a plain open()'s mode (mkstemp makes 0600) and flush it to disk."""
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        fsync_file(tmp)
    except OSError as e:
        raise write_failure(target, e) from None


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file's data to disk, so that a rename after it never names an empty file after a power loss."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _replace(tmp: Path, target: Path) -> None:
    try:
        os.replace(tmp, target)
    except OSError as e:
        raise write_failure(target, e) from None


def _folder_reason(error: OSError, folder: Path) -> str:
    """Why no file can be made in an existing folder: the system's reason, but a folder that exists and yet takes no
    files (/proc, sysfs) says so rather than 'No such file or directory'."""
    return "no files can be created in it" if _takes_nothing(error, folder) else error.strerror or str(error)


def _takes_nothing(error: OSError, folder: Path) -> bool:
    """Whether creating an entry in an existing folder failed as /proc and sysfs refuse it: ENOENT."""
    return error.errno == errno.ENOENT and folder.is_dir()


def prepare_output_dir(folder: str | os.PathLike) -> None:
    """Create an output folder, or fail with one line naming it if it cannot be created or written.

    Writability is probed by creating a temporary file: permission bits alone miss read-only mounts and root. The
    folders it creates are recorded (see removing_new_folders), and removed again if the probe fails.
    """
    folder = Path(folder)
    in_the_way = _not_a_folder(folder)
    if in_the_way == folder:
        raise HifiganError(folder, "exists and is not a folder")
    if in_the_way is not None:
        what = "is a file, not a folder" if in_the_way.is_file() else "is not a folder"
        raise HifiganError(folder, f"cannot create folder ({in_the_way} {what})")
    missing = [f for f in (folder, *folder.parents) if not f.exists() and not f.is_symlink()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _remove_empty(missing)
        parent = (missing[0] if missing else folder).parent
        reason = f"no folders can be created in {parent}" if _takes_nothing(e, parent) else e.strerror
        raise HifiganError(folder, f"cannot create folder ({reason})") from None
    if _new_folders is not None:
        _new_folders.extend(missing)
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".hifigan-probe."):
            pass
    except OSError as e:
        _remove_empty(missing)
        raise HifiganError(folder, f"folder is not writable ({_folder_reason(e, folder)})") from None


def _not_a_folder(folder: Path) -> Path | None:
    """The nearest existing path of `folder` and its parents where that is not a folder (a file in the way), else
    None."""
    nearest = next((f for f in (folder, *folder.parents) if f.exists() or f.is_symlink()), None)
    return nearest if nearest is not None and not nearest.is_dir() else None


_new_folders: list[Path] | None = None  # what prepare_output_dir created inside removing_new_folders, outermost first


@contextlib.contextmanager
def removing_new_folders() -> Iterator[None]:
    """Run a command so that a failure leaves no folder it made: the folders prepare_output_dir creates in the block
    are removed, deepest first, if the block fails and they are still empty (files already finished stay)."""
    global _new_folders
    outer, _new_folders = _new_folders, []
    try:
        yield
    except BaseException:
        _remove_empty(_new_folders)
        raise
    finally:
        created, _new_folders = _new_folders, outer
        if outer is not None:
            outer.extend(created)


def _remove_empty(folders: Sequence[Path]) -> None:
    """rmdir each folder, deepest first, that is (still) empty; one that holds anything stays, and its parents."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


# What frees a write that failed with an errno (WriteError.remedy); another errno: OTHER_REMEDY.
REMEDIES = {errno.ENOSPC: MAKE_ROOM, errno.EDQUOT: MAKE_ROOM, errno.EISDIR: "move the folder out of its way",
            errno.EACCES: "make its folder writable", errno.EPERM: "make its folder writable",
            errno.EROFS: "make the file system writable"}
SIZE_LIMIT_REMEDY = "raise the file-size limit"
OTHER_REMEDY = "fix that"


def _remedy(error: OSError) -> str:
    """What frees a write that failed with `error`, by its errno (REMEDIES, else OTHER_REMEDY)."""
    return REMEDIES.get(error.errno, OTHER_REMEDY)


def write_failure(target: str | os.PathLike, error: BaseException) -> WriteError:
    """One-line error for a failed write, naming the cause even when the writer gave no errno (numpy, torch): a
    file-size limit (RLIMIT_FSIZE) reads FILE_SIZE_LIMIT whichever writer met it. Its remedy follows the cause."""
    target = Path(target)
    if isinstance(error, OSError) and error.strerror:
        if error.errno == errno.EFBIG and _file_size_limited():
            return WriteError(target, f"cannot write ({FILE_SIZE_LIMIT})", SIZE_LIMIT_REMEDY)
        return WriteError(target, f"cannot write ({error.strerror})", _remedy(error))
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


def _umask() -> int:
    """The process umask (reading it means setting it; set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make the renames and new entries in a folder durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
