"""The walk below a folder of audio (hifigan.audio.find_audio's): every entry, symlinked folders followed but each
real folder entered once, hidden ones skipped; which entries are files of an audio name."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def files_in(candidates: Iterable[Path], suffixes: tuple[str, ...], broken: list[Path] | None = None) -> list[Path]:
    """The files with one of `suffixes` (any case; not hidden) among `candidates`, sorted by path; `broken` gets
    those names that are symlinks to nothing (a target gone, a loop)."""
    listed = {p: _is_file(p) for p in candidates if named(p.name, suffixes)}
    files = sorted(p for p, is_file in listed.items() if is_file)
    if broken is not None and len(files) < len(listed):
        broken.extend(sorted(p for p, is_file in listed.items() if not is_file and p.is_symlink() and not p.exists()))
    return files


def _is_file(path: Path) -> bool:
    """Whether `path` is a file the walk lists: a file, or a name it cannot stat (its folder not searchable, an I/O
    error), which the scan then names as unreadable rather than the walk leave out unsaid."""
    try:
        return path.is_file()
    except OSError:
        return True


def files_directly_in(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files with one of `suffixes` directly in `folder`, sorted by path. The directory's entries say which are
    files (no stat of each, except a symlink's), so a corpus of 13 100 clips is listed at the cost of reading one
    directory."""
    with os.scandir(folder) as entries:
        return sorted(folder / e.name for e in entries if named(e.name, suffixes) and e.is_file())


def named(name: str, suffixes: tuple[str, ...]) -> bool:
    """A name with one of `suffixes`, in any case, and not hidden."""
    return os.path.splitext(name)[1].lower() in suffixes and not name.startswith(".")


def walk(folder: Path, linked: list[tuple[Path, Path]] | None = None,
         unreadable: list[OSError] | None = None) -> Iterator[Path]:
    """Every entry below `folder`, following symlinked folders (a corpus assembled from links) but entering each
    real folder once, by its first path (sorted), so a link to a folder above it cannot loop; hidden folders are not
    entered. `linked` gets (path, first path) of each folder not entered again, `unreadable` the error of each folder
    that could not be listed (permission denied, an I/O error)."""
    seen: dict[str, Path] = {}
    failed = [] if unreadable is None else unreadable
    for root, dirs, names in os.walk(folder, followlinks=True, onerror=failed.append):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            if linked is not None:
                linked.append((Path(root), seen[real]))
            continue
        seen[real] = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(root) / name for name in names)
