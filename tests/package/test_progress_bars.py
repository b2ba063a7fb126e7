"""Progress bars from Python follow the commands' rule (docs/commands.md, rule 6): by default on a terminal only,
none in a file (a log fills with bar lines otherwise); progress=True draws them anywhere, progress=False nowhere."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import sys
import termios

import numpy as np
import pytest
import soundfile as sf

from hifigan import TrainOptions, evaluate_pairs, load_config

TONE = (0.1 * np.sin(np.arange(2000) / 7)).astype(np.float32)


@pytest.fixture
def pairs(tmp_path):
    sf.write(tmp_path / "a.wav", TONE, 22050)
    return [(stem, tmp_path / "a.wav", tmp_path / "a.wav") for stem in ("a", "b")]


def stderr_of(call, tmp_path, terminal: bool) -> str:
    """What `call()` writes to sys.stderr when that is a pseudo-terminal's end, or else a file."""
    if not terminal:
        with open(tmp_path / "stderr.log", "w") as log, contextlib.redirect_stderr(log):
            call()
        return (tmp_path / "stderr.log").read_text()
    main, child = pty.openpty()
    termios.tcsetwinsize(child, (24, 100))  # a new pty is 0 columns wide: tqdm would draw an empty bar
    with os.fdopen(main, "rb", buffering=0) as reader:
        with os.fdopen(child, "w") as term, contextlib.redirect_stderr(term):
            call()
        # Read until the terminal's side, now closed, is drained (EIO); one read could come before the kernel had
        # passed the last bar through (seen under load). A pause of 2 s ends it where a fork still holds that side.
        written = b""
        while select.select([reader], [], [], 2.0)[0]:
            try:
                chunk = reader.read(1 << 16)
            except OSError:  # EIO: everything written was read
                break
            if not chunk:
                break
            written += chunk
        return written.decode()


@pytest.mark.parametrize(("terminal", "progress", "drawn"), [
    (False, None, False), (True, None, True), (False, True, True), (True, False, False)])
def test_evaluate_pairs_draws_bars_on_a_terminal_unless_told(pairs, tmp_path, monkeypatch, terminal, progress, drawn):
    monkeypatch.delenv("CI", raising=False)
    kwargs = {} if progress is None else {"progress": progress}
    err = stderr_of(lambda: evaluate_pairs(pairs, load_config("v1"), metrics=["snr"], **kwargs), tmp_path, terminal)
    assert ("evaluate: 100%" in err) == drawn, err


def test_a_training_run_built_in_python_shows_bars_on_a_terminal_unless_told(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    seen = {}
    for terminal in (False, True):
        for progress in (None, True, False):
            options = TrainOptions(out=tmp_path) if progress is None else TrainOptions(out=tmp_path, progress=progress)
            seen[terminal, progress] = stderr_of(lambda o=options: print(o.shows_bars, file=sys.stderr),
                                                 tmp_path, terminal).strip()
    assert seen == {(False, None): "False", (False, True): "True", (False, False): "False",
                    (True, None): "True", (True, True): "True", (True, False): "False"}
    assert not TrainOptions(out=tmp_path, progress=True, quiet=True).shows_bars
