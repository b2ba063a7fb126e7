"""What a command killed while writing (SIGKILL, the out-of-memory killer, a power cut) leaves in a folder: a
hidden staging folder (`hifigan mel`'s .hifigan-mel.*, hifigan.files.staging) or a hidden temporary file beside an
output (.NAME.*.tmp, hifigan.files.atomic). Their names carry the writer's tag, its pid and a hash of its host, so
that the next command writing there removes those whose writer is provably gone (this host, that pid no longer
running) and leaves the others alone: a command still writing there, or another machine's on a shared file system."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import warnings
from pathlib import Path

from hifigan.messages.plural import agree, count

_TAG = r"(\d+)-([0-9a-f]{6})"
# .hifigan-mel.<tag>.<mkdtemp's 8 characters>, and .NAME.<tag>.<8 hex>.tmp (.NAME.<8 hex>.tmp before tags: kept)
_LEFTOVER = re.compile(rf"\.hifigan-[a-z]+\.{_TAG}\.[a-z0-9_]{{8}}|\..+\.{_TAG}\.[0-9a-f]{{8}}\.tmp", re.DOTALL)


def _host() -> str:
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


def remove_stale(folder: Path) -> list[Path]:
    """Remove the leftovers in `folder` whose writer is gone (each folder with what it holds) and say so in one
    warning; the paths removed. A folder that cannot be listed, or a leftover that cannot be removed, is left as
    it is (the command then writes as it would have)."""
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.name.startswith(".")]
    except OSError:
        return []
    removed, pids = [], set()
    for name in names:
        if (match := _LEFTOVER.fullmatch(name)) is None:
            continue
        pid, host = (match[1], match[2]) if match[1] is not None else (match[3], match[4])
        if not _gone(int(pid), host):
            continue
        path = folder / name
        try:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        except OSError:
            continue
        removed.append(path)
        pids.add(int(pid))
    if removed:
        shown = ", ".join(p.name for p in removed[:3]) + (f" and {len(removed) - 3} more" if len(removed) > 3 else "")
        writers = f"{agree(len(pids), 'pid', 'pids')} {', '.join(map(str, sorted(pids)))}"
        warnings.warn(f"removed {count(len(removed), 'hidden temporary', 'hidden temporaries')} ({shown}) that "
                      f"{agree(len(removed), 'was', 'were')} left in {folder} by a command killed while writing "
                      f"({writers}, no longer running): not outputs", RuntimeWarning, stacklevel=2)
    return removed
