"""System names: `NAME=DIR` arguments of `hifigan evaluate` and `hifigan listen` (each name is a part of its report
files' names), and the recordings' name beside them; the evaluation page's clip ids, made from the clips' stems."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from hifigan.errors import HifiganError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")  # a part of a file name on every system, as it is
NAME_RULE = "1-64 ASCII letters, digits, '_', '.', '+' or '-', starting with a letter or digit"
REFERENCE = "reference"  # the recordings' name beside the systems: the page's first card, a study's hidden reference
# What a clip id keeps of a stem: letters and digits of any script, '_', '.', '-'; the rest (whitespace, which no HTML
# id holds, and '#', '%', '?', quotes, which a URL fragment cannot carry as they are) becomes '-'
NOT_IN_ID = re.compile(r"[^\w.-]+")


def parse_system(text: str) -> tuple[str, Path]:
    """`NAME=DIR`, or a bare `DIR` named after its last component; a name that cannot be used, or a NAME= without
    its folder, is an error saying why."""
    name, sep, folder = text.partition("=")
    if sep and not any(c in name for c in "/" + os.sep):  # NAME=DIR (a path before '=' is a folder's: `runs/a=b`)
        if not NAME.fullmatch(name):
            problem = f"{name!r} is not a system name" if name else "no name before '='"
            raise HifiganError(None, f"system {text!r}: {problem}: a name is {NAME_RULE} (NAME=DIR)")
        if not folder:  # Path("") is the working folder: `--system v1=$DIR` with DIR unset would score it
            raise HifiganError(None, f"system {text!r}: no folder after '=' (NAME=DIR)")
        return name, Path(folder)
    bare = Path(text).resolve().name if text else ""
    if not NAME.fullmatch(bare):
        raise HifiganError(None, f"system {text!r}: named after its folder, {bare!r} is not a system name "
                                 f"({NAME_RULE}): give NAME=DIR")
    return bare, Path(text)


def parse_systems(texts: Iterable[str]) -> dict[str, Path]:
    """Several `NAME=DIR`: names must differ, in more than case (each names its own report files, and macOS and
    Windows do not tell names apart by case), and none may be the recordings' (REFERENCE)."""
    systems: dict[str, Path] = {}
    for text in texts:
        name, folder = parse_system(text)
        if name == REFERENCE:
            raise HifiganError(folder, f"the system name {REFERENCE!r} is reserved for the recordings; give another "
                               "(NAME=DIR)")
        same = next((other for other in systems if other.lower() == name.lower()), None)
        if same == name:
            raise HifiganError(folder, f"two systems named {name!r} ({systems[name]} and {folder}); name them "
                               "NAME=DIR")
        if same is not None:
            raise HifiganError(folder, f"systems named {same!r} ({systems[same]}) and {name!r} differ only in case, "
                               "and their report files would be one file on macOS or Windows; name them apart")
        systems[name] = folder
    return systems


def clip_ids(stems: Iterable[str]) -> list[str]:
    """The page's section id of each clip, `clip-STEM` where the stem is one as it is: valid as an HTML id and as
    a URL fragment (evaluation.html#clip-...), and unique, a stem that would take an id already given ("a b" after
    "a-b", or a second "a") getting the first of -2, -3, ... that is free."""
    ids: list[str] = []
    taken: set[str] = set()
    for stem in stems:
        base = "clip-" + NOT_IN_ID.sub("-", stem)
        given, n = base, 2
        while given in taken:
            given, n = f"{base}-{n}", n + 1
        ids.append(given)
        taken.add(given)
    return ids
