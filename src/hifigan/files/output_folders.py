"""Output folders: created, or refused in one line naming them (a file in the way, a folder that cannot be made or
written), and taken back when the command that made them fails (removing_new_folders), so no empty folder stays."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from hifigan.errors import HifiganError
from hifigan.files.write_failures import folder_reason, takes_nothing


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
        reason = f"no folders can be created in {parent}" if takes_nothing(e, parent) else e.strerror
        raise HifiganError(folder, f"cannot create folder ({reason})") from None
    if _new_folders is not None:
        _new_folders.extend(missing)
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".hifigan-probe."):
            pass
    except OSError as e:
        _remove_empty(missing)
        raise HifiganError(folder, f"folder is not writable ({folder_reason(e, folder)})") from None


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
