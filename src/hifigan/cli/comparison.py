"""The options of the commands that compare systems with the recordings (evaluate, listen): --reference DIR,
--system NAME=DIR (repeated) and --subset, each defined once; resolve_out (cli/common.py) checks a required
--system after parsing."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.old_spellings import add_old_spelling


def add_systems(p: argparse.ArgumentParser, help: str, *, required: bool = True, old_option: str | None = None
                ) -> None:
    """--system NAME=DIR (repeated): the systems a command compares (evaluate, listen); a bare DIR is named after the
    folder. `old_option` is a spelling it replaces, kept for one release with a note."""
    system = p.add_argument("--system", action="append", metavar="NAME=DIR", default=None, help=help)
    system.required = required  # as -o/--out (add_out): shown so, checked by resolve_out
    system.checked_after_parsing = True  # type: ignore[attr-defined]
    if old_option is not None:
        add_old_spelling(p, old_option, system)
    p.set_defaults(systems_required=required)


def add_reference(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--reference DIR: the recordings the systems (add_systems) are compared with (evaluate, listen)."""
    p.add_argument("--reference", required=required, type=Path, metavar="DIR",
                   help="folder of the recordings: one audio file per stem")


def add_subset(p: argparse.ArgumentParser, note: str = "") -> None:
    """--subset: the systems (add_systems) are compared on a test set of the recordings (evaluate, listen); None when
    not given, for listen's study that keeps its own choice. `note` ends its parentheses."""
    p.add_argument("--subset", action="store_true", default=None,
                   help="a test set: only the recordings of the stems the systems hold, the same stems in every "
                   "system, the others not read (without it every recording needs a file from every system"
                   + (f"; {note})" if note else ")"))
