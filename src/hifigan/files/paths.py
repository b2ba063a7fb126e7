"""The checks every reader makes of a path the user names: it exists, is the right kind, and (a file) is not
empty. A failure is one line, `<path>: <problem>`, as the caller's HifiganError subclass. And whether two spellings
name one file or folder (same_file), and a path's part below a folder (below, relative_name)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath

from hifigan.errors import HifiganError


def require_file(
    path: str | os.PathLike, expected: str, error: type[HifiganError] = HifiganError, *, missing: str = "no such file"
) -> Path:
    """`path` if it names a non-empty file, else `error`: `missing`, "is a directory, expected <expected>",
    "is empty (0 bytes), expected <expected>" (expected: what the caller reads, e.g. "an audio file") or, where it
    cannot be stat'ed (a folder on its way not searchable, an I/O error), "cannot read (Permission denied)"."""
    path = Path(path)
    try:
        if not path.exists():
            raise error(path, missing)
        if path.is_dir():
            raise error(path, f"is a directory, expected {expected}")
        if path.stat().st_size == 0:
            raise error(path, f"is empty (0 bytes), expected {expected}")
    except OSError as e:  # exists() says False only for a name that is not there, and raises for the others
        raise error(path, f"cannot read ({e.strerror or e})") from None
    return path


def unreadable_files(paths: Iterable[str | os.PathLike], expected: str) -> list[HifiganError]:
    """require_file's error for each of `paths` that is not a non-empty file (all of them named, not the first)."""
    return _failures(paths, lambda path: require_file(path, expected))


def _failures(paths: Iterable[str | os.PathLike], check: Callable[[str | os.PathLike], object]
              ) -> list[HifiganError]:
    problems = []
    for path in paths:
        try:
            check(path)
        except HifiganError as e:
            problems.append(e)
    return problems


def require_folder(path: str | os.PathLike, error: type[HifiganError] = HifiganError) -> Path:
    """`path` if it names a folder, else `error`: "no such folder" or "is not a folder"."""
    path = Path(path)
    if not path.exists():
        raise error(path, "no such folder")
    if not path.is_dir():
        raise error(path, "is not a folder")
    return path


def differing_in_case(path: str | os.PathLike) -> str | None:
    """"a file differing in case: C0.WAV", naming a file beside the missing `path` whose name differs from its name
    in case alone (a list's `C0` taken as C0.wav beside C0.WAV), or None; for the few missing files an error or
    warning shows, not every one."""
    path = Path(path)
    try:
        names = sorted(os.listdir(path.parent))
    except OSError:
        return None
    twin = next((n for n in names if n != path.name and n.lower() == path.name.lower()), None)
    return None if twin is None else case_twin(twin)


def case_twin(name: str) -> str:
    """How an error names the file meant, found beside a missing one under `name`, which differs in case alone."""
    return f"a file differing in case: {name}"


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two spellings name one file or folder: the same path once resolved (`./x`, a relative against an
    absolute one, a symlink on the way), or, where both exist, the same file (a hard link such as latest.pt)."""
    return not file_keys(a).isdisjoint(file_keys(b))


def file_keys(path: str | os.PathLike) -> set[tuple]:
    """What same_file compares, as keys a set or dict can hold (many paths against many in one pass): the resolved
    path and, where it exists, the file itself (device, inode)."""
    keys: set[tuple] = {("path", Path(path).resolve())}
    try:
        stat = os.stat(path)
    except (OSError, ValueError):  # missing, unreadable folder, a name the system refuses: the path alone
        return keys
    keys.add(("file", stat.st_dev, stat.st_ino))
    return keys


def below(path: str, root: str) -> str | None:
    """`path`'s part below the folder `root` ("." for `root` itself), None outside it (and below "."): both absolute or
    both relative, normalised (no empty or "." parts, as str(Path) and os.path.abspath write them), and
    prefix_rule_holds. By string prefix ending at a "/": ~50x cheaper than pathlib's relative_to or os.path.relpath,
    which a corpus of 10^5 files pays at each start."""
    if path == root:
        return "."
    prefix = root if root.endswith("/") else root + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def prefix_rule_holds(*names: str) -> bool:
    """Whether `below` may compare these names: POSIX separators, no "//" lead (which POSIX leaves to the system,
    and pathlib keeps apart from "/")."""
    return os.sep == "/" and not any(n.startswith("//") for n in names)


def relative_name(path: PurePath, root: PurePath) -> str:
    """`path` relative to `root` as pathlib's relative_to writes it (with "/"), or `path` itself outside it; by
    `below` where prefix_rule_holds."""
    if not prefix_rule_holds(str(path), str(root)):
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    name = below(str(path), str(root))
    return path.as_posix() if name is None else name
