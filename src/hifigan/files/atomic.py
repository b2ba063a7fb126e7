"""Atomic file output: write to a temporary name beside the target, rename when complete.

A reader never sees a half-written file, and a crash leaves the previous file in place.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from hifigan.errors import HifiganError, WriteError
from hifigan.files.leftovers import writer_tag
from hifigan.files.write_failures import folder_reason, remedy, write_failure
from hifigan.runtime.interrupts import interrupts_deferred


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
    try:
        for target in targets:
            _temporary_beside(target, temps)
        try:
            yield temps
        except OSError as e:  # the writer's own failure (a full disk): named after the file it was writing
            written = next((t for tmp, t in zip(temps, targets) if e.filename and Path(e.filename) == tmp), None)
            raise write_failure(written or targets[0], e) from None
        with interrupts_deferred():  # a Ctrl-C now would cut the set between two renames, or strand a backup
            _commit(temps, targets)
    except BaseException:
        for path in temps:
            path.unlink(missing_ok=True)
        raise


def _commit(temps: list[Path], targets: list[Path]) -> None:
    """Rename each written temporary file over its target, the previous files kept aside until the last rename
    (put back if a rename fails), then make it durable and drop the backups."""
    backups: dict[Path, Path] = {}  # target -> a second name of its previous file, while a later rename may fail
    replaced: list[tuple[Path, bool]] = []  # (target, whether it existed before)
    try:
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


def _temporary_beside(target: Path, temps: list[Path]) -> None:
    """An empty hidden temporary file in the target's folder (a rename within one file system is atomic), added to
    `temps` before it is created: a Ctrl-C at any moment leaves no file the caller does not know to remove (mkstemp's
    name is known only once it has made the file)."""
    folder = _folder(target)
    if not folder.is_dir():
        raise HifiganError(folder, "output folder does not exist")
    while True:
        temps.append(folder / f".{target.name}.{writer_tag()}.{secrets.token_hex(4)}.tmp")  # leftovers' pattern
        try:
            os.close(os.open(temps[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return
        except FileExistsError:
            temps.pop()  # another writer's: not ours to remove
        except OSError as e:
            temps.pop()
            raise WriteError(folder, f"cannot write here ({folder_reason(e, folder)})", remedy(e)) from None


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
