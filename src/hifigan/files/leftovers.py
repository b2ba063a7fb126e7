"""What a command killed while writing (SIGKILL, the out-of-memory killer, a power cut) leaves in a folder: a
hidden staging folder (`hifigan mel`'s .hifigan-mel.*, hifigan.files.staging) or a hidden temporary file beside an
output (.NAME.*.tmp, hifigan.files.atomic). Their names carry the writer's tag, its pid and a hash of its host, so
that the next command writing there removes those whose writer is provably gone (this host, that pid no longer
running) and leaves the others alone: a command still writing there, or another machine's on a shared file system.
A training run's folder has one writer, the run that holds it (training.run_lock): there every temporary is a killed
writer's, whatever its name says, and goes. One line says what went, wherever."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import socket
import warnings
from pathlib import Path
from typing import NamedTuple

from hifigan.messages.plural import agree, count

_TAG = r"(\d+)-([0-9a-f]{6})"
# .hifigan-mel.<tag>.<mkdtemp's 8 characters>, and .NAME.<tag>.<8 hex>.tmp (.NAME.<8 hex>.tmp before tags: kept)
_LEFTOVER = re.compile(rf"\.hifigan-[a-z]+\.{_TAG}\.[a-z0-9_]{{8}}|\..+\.{_TAG}\.[0-9a-f]{{8}}\.tmp", re.DOTALL)


@functools.cache
def _host() -> str:
    """A hash of this machine's name (fixed for the process's life), as a temporary's name carries it."""
    return hashlib.blake2b(socket.gethostname().encode(), digest_size=3).hexdigest()


def writer_tag() -> str:
    """This process as a temporary name carries it: "<pid>-<host hash>"."""
    return f"{os.getpid()}-{_host()}"


def _gone(pid: int, host: str) -> bool:
    """Whether the writer of a tag is provably not running: on this host, and no process has its pid (one that
    does, even another user's or a reused pid, may be writing still)."""
    if host != _host() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: a process of another user has it
        return False
    return False


class Leftover(NamedTuple):
    """A temporary removed from a folder, with its writer's pid where its name carries one."""

    path: Path
    pid: int | None


def remove_leftovers(folder: Path, names: tuple[str, ...] | None = None, locked: bool = False) -> list[Leftover]:
    """Remove the leftovers in `folder` (each folder with what it holds) whose writer is gone; those removed.
    Unlocked (mel, vocode -o: any command may write there), a writer is gone where its tag proves it. `locked`: the
    folder has one writer, the caller (a training run's, which training.run_lock holds for `hifigan train`), so every
    .NAME.*.tmp of `names` (None: of any file) is a gone writer's, an untagged one, another host's or a reused pid's
    too, and so is the backup of a set killed between its renames (.NAME.*.old.tmp, files.atomic). What cannot be
    listed or removed is left as it is."""
    try:
        found = sorted(entry.name for entry in os.scandir(folder) if entry.name.startswith("."))
    except OSError:
        return []
    removed = []
    prefixes = None if names is None else tuple(f".{n}." for n in names)
    for name in found:
        match = _LEFTOVER.fullmatch(name)
        pid, host = (int(match[1] or match[3]), match[2] or match[4]) if match else (None, "")
        if locked:
            if not name.endswith(".tmp") or (prefixes is not None and not name.startswith(prefixes)):
                continue
        elif pid is None or not _gone(pid, host):
            continue
        path = folder / name
        try:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        except OSError:
            continue
        removed.append(Leftover(path, pid))
    return removed


def leftovers_line(folder: Path, removed: list[Leftover], locked: bool = False) -> str:
    """The one line that says what remove_leftovers removed from `folder`, and how its writer is known to be gone."""
    shown = ", ".join(p.name for p, _ in removed[:3]) + (f" and {len(removed) - 3} more" if len(removed) > 3 else "")
    pids = sorted({pid for _, pid in removed if pid is not None})
    gone = "this run holds the folder now" if locked else "no longer running"
    writers = f"{agree(len(pids), 'pid', 'pids')} {', '.join(map(str, pids))}, {gone}" if pids else gone
    return (f"removed {count(len(removed), 'hidden temporary', 'hidden temporaries')} ({shown}) that "
            f"{agree(len(removed), 'was', 'were')} left in {folder} by a command killed while writing ({writers}): "
            "not outputs")


def remove_stale(folder: Path) -> None:
    """remove_leftovers of an unlocked folder, said in one warning."""
    removed = remove_leftovers(folder)
    if removed:
        warnings.warn(leftovers_line(folder, removed), RuntimeWarning, stacklevel=2)
