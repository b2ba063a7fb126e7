"""Part of the grammar (test_cli_grammar.py): a progress bar only on a terminal, from two items up, never under CI or
with --no-progress."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from hifigan.cli import main
from tests.support.cli_runs import SR, run, tone, wav


def _pty() -> tuple[int, int]:
    """A pseudo-terminal 100 columns wide (tqdm draws nothing on a 0-column one): (leader, follower) descriptors."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    return leader, follower


def _read_all(leader: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when its last writer does
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal(tmp_path, tiny_checkpoint):
    """`python -m hifigan vocode` on 3 clips with stderr a terminal: the bar counts them."""
    clips = [wav(tmp_path / f"p{i}.wav", tone(SR // 4)) for i in range(3)]
    argv = [sys.executable, "-m", "hifigan", "vocode", "-c", str(tiny_checkpoint), "-o", str(tmp_path / "p"),
            *map(str, clips)]
    leader, follower = _pty()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=follower,
                            env={k: v for k, v in os.environ.items() if k != "CI"})
    os.close(follower)
    stderr = _read_all(leader)
    assert proc.wait(timeout=300) == 0
    assert "vocode: 100%" in stderr and "3/3" in stderr


def test_no_progress_bar_in_a_pipe_or_under_ci(tmp_path, capsys, monkeypatch, tiny_checkpoint):
    clips = [wav(tmp_path / f"p{i}.wav", tone(SR // 4)) for i in range(3)]
    argv = ["vocode", "-c", tiny_checkpoint, "-o", tmp_path / "p", *clips]
    monkeypatch.delenv("CI", raising=False)
    code, out, err = run(capsys, *argv)  # stderr captured: not a terminal
    assert (code, err) == (0, "") and out.startswith("wrote 3 files"), (code, out, err)
    leader, follower = _pty()
    with os.fdopen(follower, "w") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        monkeypatch.setenv("CI", "true")
        assert main([str(a) for a in argv]) == 0
    assert _read_all(leader) == ""


@pytest.mark.parametrize(("total", "enabled", "drawn"), [(2, True, True), (1, True, False), (2, False, False)])
def test_progress_bar_for_several_items_unless_disabled(monkeypatch, total, enabled, drawn):
    """On a terminal the bar shows from two items up, and not with enabled=False (--no-progress)."""
    from hifigan.cli.common import progress

    monkeypatch.delenv("CI", raising=False)
    leader, follower = _pty()
    with os.fdopen(follower, "w") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        assert list(progress(range(total), "vocode", total, enabled)) == list(range(total))
    assert (f"{total}/{total}" in _read_all(leader)) == drawn
