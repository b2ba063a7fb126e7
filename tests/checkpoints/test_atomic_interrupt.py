"""Ctrl-C during an atomic write, at every moment one can land: the targets are all old or all new, and no temporary
file or backup is left beside them."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import hifigan.files.atomic as atomic
from hifigan.audio import save_audio

# The code an atomic write runs; a SIGINT's handler runs when the interpreter next checks for signals, as it does
# on entering a function and on the return of a call into C (os.open, os.replace): there, each in turn, it is sent.
# (Not inside tempfile: a KeyboardInterrupt there can leave its module lock held, and the next write waiting on it.)
WATCHED = {atomic.__file__, contextlib.__file__}


def interrupted_at(n: int, write: Callable[[], None]) -> bool:
    """Run `write` with a SIGINT sent at the `n`th function entry or C call's return in WATCHED; whether it
    completed (no KeyboardInterrupt came out of it)."""
    seen = 0

    def send(frame, event, arg) -> None:
        nonlocal seen
        if frame.f_code.co_filename in WATCHED and event in ("call", "c_return"):
            seen += 1
            if seen == n:
                signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own: Ctrl-C is KeyboardInterrupt
    sys.setprofile(send)
    try:
        write()
        return True
    except KeyboardInterrupt:
        return False
    finally:
        sys.setprofile(None)
        signal.signal(signal.SIGINT, previous)


def write_one(folder: Path) -> None:
    """One WAV file, as vocode writes each output."""
    save_audio(folder / "x.wav", np.zeros(100, np.float32), 8000)


def write_pair(folder: Path) -> None:
    """Two files as a unit (export-official's g_/do_ pair, evaluate's JSON and PNG) over previous ones."""
    with atomic.atomic_paths([folder / "a", folder / "b"]) as (a, b):
        a.write_text("new a")
        b.write_text("new b")


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace") for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(("write", "old", "new"), [
    (write_one, set(), {"x.wav"}),
    (write_pair, {("a", "old a"), ("b", "old b")}, {("a", "new a"), ("b", "new b")}),
], ids=["one file", "a pair over previous files"])
def test_ctrl_c_anywhere_leaves_the_old_or_the_new_files_and_nothing_else(tmp_path, write, old, new):
    n = 0
    while True:
        n += 1
        folder = tmp_path / str(n)
        folder.mkdir()
        for name, text in old:
            (folder / name).write_text(text)
        completed = interrupted_at(n, partial(write, folder))
        left = set(contents(folder)) if write is write_one else set(contents(folder).items())
        assert left in (old, new), (n, contents(folder))
        if completed:  # n passed the last moment: every earlier one was interrupted, and said so
            assert left == new and n > 20, n
            break
