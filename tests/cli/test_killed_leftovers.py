"""What a command SIGKILLed while writing leaves in a folder (a `hifigan mel` staging folder, a `.NAME.*.tmp` beside
an output) is removed by the next `mel` or `vocode -o DIR` writing there, which says so, once its writer is provably
gone; a leftover whose writer still runs stays (it may be writing), and neither is taken for an output. A training
run's folder, whose one writer is the run (locked), drops every temporary there, as the same line says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hifigan.files.leftovers import leftovers_line, remove_leftovers, writer_tag
from tests.support.cli_runs import SR, run, tone, wav

# A writer that stops mid-write: what `mel` stages, or what save_audio writes beside its output, then a wait.
WRITER = """
import sys, time
from pathlib import Path
from hifigan.files.atomic import atomic_path
from hifigan.files.staging import staging_folder
kind, out = sys.argv[1], Path(sys.argv[2])
writing = staging_folder(out, ".hifigan-mel.") if kind == "mel" else atomic_path(out / "c0.wav")
with writing as path:
    (path / "c0.npy" if kind == "mel" else path).write_bytes(b"half written")
    print(path.name, flush=True)
    time.sleep(600)
"""


def _writer(kind: str, out: Path) -> tuple[subprocess.Popen, Path]:
    """A child process writing into `out`, and its leftover once it is stopped there."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, kind, str(out)], stdout=subprocess.PIPE, text=True)
    name = proc.stdout.readline().strip()
    assert name, proc.wait()
    return proc, out / name


@pytest.mark.parametrize("command", ["mel", "vocode"])
def test_a_killed_writers_leftover_goes_and_a_running_ones_stays(tmp_path, capsys, command, tiny_config_json,
                                                                 tiny_checkpoint):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    for i in range(3):
        wav(inputs / f"c{i}.wav", tone(SR // 4))
    kind = "mel" if command == "mel" else "wav"
    killed, killed_leftover = _writer(kind, out)
    running, running_leftover = _writer(kind, out)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert killed_leftover.exists()  # what SIGKILL leaves: nothing ran to remove it
        model = ["--config", tiny_config_json] if command == "mel" else ["-c", tiny_checkpoint]
        with pytest.warns(RuntimeWarning, match="hidden temporar") as said:  # pytest takes this process's warnings
            code, _, err = run(capsys, command, inputs, "-o", out, *model)
        assert code == 0, err
        assert not killed_leftover.exists() and running_leftover.exists()
        assert [str(w.message) for w in said if "hidden temporar" in str(w.message)] == [
            f"removed 1 hidden temporary ({killed_leftover.name}) that was left in {out} by a command killed while "
            f"writing (pid {killed.pid}, no longer running): not outputs"]
        suffix = ".npy" if command == "mel" else ".wav"
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
            f"c{i}{suffix}" for i in range(3)]
        assert (out / f"c0{suffix}").stat().st_size > len(b"half written")
    finally:
        running.kill()
        running.wait()


def test_a_locked_folder_drops_every_temporary_of_its_files_and_an_open_one_only_a_gone_writers(tmp_path):
    """Untagged (before names carried the writer), a live pid's, another host's, and a backup of a set killed between
    its renames: unlocked, none is provably a gone writer's, so all stay; locked (a training run's folder, its one
    writer the caller) each .tmp of the files named goes, and the line names the pids it read."""
    host = "000000" if not writer_tag().endswith("-000000") else "ffffff"
    temporaries = [".ckpt_00000002.pt.1a2b3c4d.tmp", f".ckpt_00000003.pt.{writer_tag()}.deadbeef.tmp",
                   f".ckpt_00000004.pt.4242-{host}.0badf00d.tmp", ".g.1a2b3c4d.old.tmp",
                   f".log.jsonl.4242-{host}.12345678.tmp"]
    kept = ["log.jsonl", f".hifigan-mel.{writer_tag()}.k2f9x1qa"]  # an output, a staging folder (no .tmp)
    for name in [*temporaries, kept[0]]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / kept[1]).mkdir()
    assert remove_leftovers(tmp_path) == []
    assert [p.name for p, _ in remove_leftovers(tmp_path, ("log.jsonl",), locked=True)] == [temporaries[-1]]
    removed = remove_leftovers(tmp_path, locked=True)
    assert [p.name for p, _ in removed] == temporaries[:4]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert leftovers_line(tmp_path, removed, locked=True) == (
        f"removed 4 hidden temporaries ({', '.join(temporaries[:3])} and 1 more) that were left in {tmp_path} by a "
        f"command killed while writing (pids {min(4242, os.getpid())}, {max(4242, os.getpid())}, this run holds the "
        "folder now): not outputs")
