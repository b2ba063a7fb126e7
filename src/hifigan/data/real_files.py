"""One real file reached by two paths (symlinks, a linked folder, hard links) is one clip: listed twice, its two paths
could be drawn to opposite sides of the held-out split, and it would train twice per epoch. These find such repeats
by the file's identity (device and inode), or by the resolved path where the file cannot be stat'ed."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path

from hifigan.audio import AUDIO_SUFFIXES
from hifigan.data.segments import recording_of
from hifigan.messages.plural import agree, count


def real_paths(files: Sequence[Path]) -> list[str]:
    """Each file's resolved path (symlinks followed), resolving each folder once: a corpus has far fewer folders
    than files."""
    folders: dict[str, str] = {}
    real = []
    for f in files:
        name = os.fspath(f)
        if os.path.islink(name):
            real.append(os.path.realpath(name))
            continue
        parent, base = os.path.split(name)
        if parent not in folders:
            folders[parent] = os.path.realpath(parent or ".")
        real.append(os.path.join(folders[parent], base))
    return real


def identities(files: Sequence[Path]) -> list[Hashable]:
    """What makes each file one real file: its device, inode, size and mtime (os.stat, symlinks followed), the same
    for every name of it, hard links included; its resolved path (real_paths) where it cannot be stat'ed (a missing
    file) or where the file system gives no inode (0). A segment's: its recording's, with its times."""
    keys: list[Hashable] = []
    real = None
    targets = [recording_of(f) for f in files]
    for k, f in enumerate(targets):
        try:
            s = os.stat(f)
        except OSError:
            s = None
        if s is not None and s.st_ino != 0:
            key: Hashable = (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns)
        else:
            real = real_paths(targets) if real is None else real
            key = real[k]
        keys.append(key if f is files[k] else (key, files[k].start, files[k].end))
    return keys


def repeats(files: Sequence[Path]) -> list[tuple[int, int]]:
    """(i, j) for each file i that is the real file of an earlier file j (the first path to it)."""
    first: dict[Hashable, int] = {}
    return [(i, j) for i, r in enumerate(identities(files)) if (j := first.setdefault(r, i)) != i]


def kind_of(files: Sequence[Path]) -> str:
    """What `files` are, as a warning counts them: "audio file" (every one audio), ".npy file" (one suffix shared,
    e.g. the mels of a `vocode` folder), else "file"."""
    suffixes = {f.suffix.lower() for f in files}
    if suffixes <= set(AUDIO_SUFFIXES):
        return "audio file"
    return f"{suffixes.pop()} file" if len(suffixes) == 1 else "file"


def drop_repeats(files: Sequence[Path], folder: Path) -> list[Path]:
    """`files` (found in `folder`) with every path to a real file listed already dropped: each real file once, by
    its first path in the given (sorted) order, so the held-out draw is stable. One warning says how many."""
    found = repeats(files)
    if not found:
        return list(files)
    i, j = found[0]
    n = len(found)
    kind = kind_of([files[i] for i, _ in found])
    warnings.warn(f"{folder}: {count(n, kind)} {agree(n, 'is another path', 'are other paths')} to "
                  f"{agree(n, 'a file', 'files')} listed already (symlinks or hard links), dropped "
                  f"so each real file is listed once (e.g. {files[i]} is {files[j]})", stacklevel=2)
    dropped = {i for i, _ in found}
    return [f for k, f in enumerate(files) if k not in dropped]


def warn_linked_folders(linked: Sequence[tuple[Path, Path]], files: Sequence[Path], folder: Path) -> None:
    """One warning for the folders of `folder` reached again through a symlink, and so not entered again (`linked`:
    each one's path and the first path to it, find_audio's): their files are listed once, under the first path, as
    `files` holds them. Nothing when no such folder holds any of `files`. Counted by folder, not by file: a corpus
    has far fewer folders than files."""
    if not linked:
        return
    names = [os.fspath(f) for f in files]
    folders = Counter(os.path.dirname(name) for name in names)

    def below(top: str) -> list[str]:  # the folders of `files` at or below `top` (`.`: a corpus given as `.`)
        return [d for d in folders if top == os.curdir or d == top or d.startswith(top + os.sep)]

    holding = [(path, first, below(os.fspath(first))) for path, first in linked]
    holding = [(path, first, inside) for path, first, inside in holding if inside]
    if not holding:
        return
    path, first, _ = holding[0]
    n, dropped = len(holding), sum(folders[d] for *_, inside in holding for d in inside)
    shown = {d for *_, inside in holding for d in inside}
    kind = kind_of([f for f, name in zip(files, names) if os.path.dirname(name) in shown])
    warnings.warn(f"{folder}: {count(n, 'folder')} {agree(n, 'is another path', 'are other paths')} to "
                  f"{agree(n, 'a folder', 'folders')} listed already (symlinks), not entered again, so each of "
                  f"{agree(n, 'its', 'their')} {count(dropped, kind)} is listed once, by its first path (e.g. {path} "
                  f"is {first})", stacklevel=2)


def warn_broken_links(broken: Sequence[Path], folder: Path, what: str = "audio") -> None:
    """One warning for the symlinks below `folder` named as `what` files that lead to no file (a target moved or
    unmounted, a loop): not listed, and not silently: a corpus assembled from links loses clips that way."""
    if broken:
        n = len(broken)
        warnings.warn(f"{folder}: {count(n, 'symlink')} with {agree(n, f'an {what} name leads', f'{what} names lead')} "
                      f"to no file (a target gone, or a loop), so {agree(n, 'it is', 'they are')} not listed (e.g. "
                      f"{broken[0]} -> {os.readlink(broken[0])})", stacklevel=2)


def warn_left_out(folder: Path, files: Sequence[Path], what: str, linked: Sequence[tuple[Path, Path]],
                  broken: Sequence[Path], unreadable: Sequence[OSError]) -> None:
    """The warnings for what the walk of `folder` (hifigan.audio.find_audio, which found `files`) did not list: each
    kind in one (warn_linked_folders, warn_broken_links, warn_unreadable_folders)."""
    warn_linked_folders(linked, files, folder)
    warn_broken_links(broken, folder, what)
    warn_unreadable_folders(unreadable, folder)


def warn_unreadable_folders(unreadable: Sequence[OSError], folder: Path) -> None:
    """One warning for the folders below `folder` that could not be listed (permission denied, an I/O error): the
    files they hold, however many, are left out, as a file that cannot be read is, but not silently."""
    if unreadable:
        n, first = len(unreadable), unreadable[0]
        warnings.warn(f"{folder}: {count(n, 'folder')} cannot be read, so {agree(n, 'its', 'their')} files are not "
                      f"listed (e.g. {first.filename}: {first.strerror})", stacklevel=2)
