"""The `hifigan` command run as a user runs it (in-process, or as `python -m hifigan`), the inputs the command
tests feed it, and the rule every refusal meets: exit 2, one line naming the file and the problem, no traceback,
nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from hifigan.cli import main
from hifigan.errors import LISTED_SCAN_KEPT, SCAN_KEPT, split_problems
from tests.support.files import SCAN_ONLY, left_in

SR, HOP, BINS = 8000, 16, 16  # tiny_config()'s rate, hop and mel bins
SUBSET = "(--subset evaluates only the stems the systems hold)"  # a recording without a generated file: the option


def run(capsys, *argv) -> tuple[int, str, str]:
    """`hifigan ARGV` in this process: (exit code, stdout, stderr); a usage error's too (argparse exits)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_module(*argv, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """`python -m hifigan ARGV` in a child process, output captured as text."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "hifigan", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300, **kwargs)


# The child of run_commands: each ARGV through hifigan.cli.main (what `python -m hifigan` runs) with file
# descriptor 2 caught (Python's and native code's writes alike; an exception main lets out: its traceback, exit 1; a
# SystemExit: its code), then what FOLDER holds; the runs as one JSON line after a marker.
_COMMANDS = """
import json, os, sys, tempfile, traceback
from hifigan.cli import main
runs = []
for argv in json.loads(sys.argv[1]):
    with tempfile.TemporaryFile("w+") as caught:
        sys.stderr.flush()
        kept = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            code = main(argv)
        except SystemExit as e:  # argparse's usage errors, as the process would exit
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stderr.flush()
            os.dup2(kept, 2)
            os.close(kept)
        caught.seek(0)
        runs.append((code, caught.read(), sorted(os.listdir(sys.argv[2]))))
print("RUNS:" + json.dumps(runs))
"""


def commands_child(folder: Path, *argvs: list) -> list[str]:
    """The argv of one Python process that runs every `hifigan ARGV` of `argvs` in turn (the import of torch, most of
    a `python -m hifigan` run's time, paid once), listing `folder` after each: parse its stdout with ran()."""
    return [sys.executable, "-c", _COMMANDS, json.dumps([[str(a) for a in argv] for argv in argvs]), str(folder)]


def ran(proc: subprocess.CompletedProcess) -> list[tuple[int, str, list[str]]]:
    """(exit code, stderr, names left in the folder) of each command a commands_child process ran."""
    assert "RUNS:" in proc.stdout, proc.stderr
    return [tuple(run) for run in json.loads(proc.stdout.rsplit("RUNS:", 1)[1])]


def run_commands(folder: Path, *argvs: list, **kwargs) -> list[tuple[int, str, list[str]]]:
    """Every `hifigan ARGV` of `argvs` in one child process (kwargs: subprocess.run's): see commands_child."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return ran(subprocess.run(commands_child(folder, *argvs), capture_output=True, text=True, env=env, timeout=300,
                              **kwargs))


def files_in(folder: Path) -> list[str]:
    """The names in `folder`, sorted; none where it is not a folder."""
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def one_line(err: str) -> str:
    """The one non-empty line of `err`, which holds no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def failed_cleanly(code: int, err: str, out: Path, *names: str, status: int = 2, fresh: bool = True) -> str:
    """Exit `status`, one stderr line naming every one of `names`, no traceback, nothing written in `out`, and a
    `fresh` out (absent before the command) not even created. Returns the line."""
    assert code == status, err
    line = one_line(err)
    for name in names:
        assert name in line, (name, line)
    assert files_in(out) == [], files_in(out)
    if fresh:
        assert not out.exists(), f"{out} was created by a command that failed"
    return line


def refused_after_scan(code: int, err: str, out: Path, *names: str) -> str:
    """A `hifigan train` refused once its files were read: exit 2, one stderr line naming every one of `names` and
    saying the scan's cache is kept, no traceback, and the run folder `out` holding that cache alone (for the rerun).
    Returns the line."""
    assert code == 2, err
    line = one_line(err)
    for name in names:
        assert name in line, (name, line)
    assert LISTED_SCAN_KEPT in line or f"({out / SCAN_ONLY[0]} kept: {SCAN_KEPT}" in line, line
    assert left_in(out) == SCAN_ONLY, left_in(out)
    return line


def problems(line: str) -> list[str]:
    """The problems a `hifigan CMD: error: N of M inputs are bad ...` line lists, with its head."""
    return [line.split("error: ", 1)[1].split(" (nothing was written)")[0], *split_problems(line)]


def tone(n: int, sr: int = SR, channels: int = 1) -> np.ndarray:
    """`n` samples of a 440 Hz tone at half scale, float32; channels beyond the first at other levels."""
    mono = (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / sr)).astype(np.float32)
    return mono if channels == 1 else np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1)


def wav(path: Path, audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> Path:
    """`audio` ([n] or [n, channels]) written to `path` as a WAV file."""
    sf.write(path, audio, sr, subtype=subtype, format="WAV")
    return path


def raw_file(data: bytes, name: str = "bad.wav") -> Callable[[Path], Path]:
    """A maker of the file `name` holding `data` in a given folder: a bad input of any kind, byte for byte."""
    def make(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name
    return make


def shown_on_a_terminal(monkeypatch, argv: list[str]) -> str:
    """What `hifigan ARGV` shows on a real terminal (a pseudo-terminal as stderr), after it exits 0."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    monkeypatch.delenv("CI", raising=False)  # CI sets it: a bar there is noise (progress_bars.on_terminal)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new one is 0 columns wide
    try:
        with os.fdopen(os.dup(slave), "w") as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            assert main([str(a) for a in argv]) == 0
            terminal.flush()
        shown = b""
        while select.select([master], [], [], 0)[0]:  # each of tqdm's writes is its own read
            shown += os.read(master, 1 << 16)
        return shown.decode()
    finally:
        os.close(master)
        os.close(slave)
