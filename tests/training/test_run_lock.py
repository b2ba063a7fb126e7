"""One training process per run folder: while another process holds the folder (training.run_lock), a second
`hifigan train` into it, resumed or new, is refused in one line, exit 2, and writes nothing; once free, it runs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.training.run_lock import lock_run_folder, release

pytestmark = [pytest.mark.usefixtures("single_thread"),
              pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX only")]
HOLD = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_EX); "
        "print('held', flush=True); sys.stdin.read()")


@contextlib.contextmanager
def held_by_another_process(folder):
    """`folder` locked by another process, as a first `hifigan train` holds its run folder."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.stdin.close()
        holder.wait()


def _refused(folder) -> list[str]:
    return [f"hifigan train: error: {folder}: another hifigan train is running in this folder (two runs would log the "
            "same steps and set each other's checkpoints aside): wait for it to stop, or give a new --out"]


def test_a_second_train_into_a_folder_in_use_is_refused(tmp_path, tiny_corpus, tiny_config_json, capsys):
    run, new = tmp_path / "run", tmp_path / "new"
    new_run = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--no-progress",
               "--valid-count", "2", "--max-steps", "1", "--out"]
    assert main([*new_run, str(run)]) == 0
    before = sorted(run.rglob("*"))
    resume = ["train", "--resume", str(run), "--max-steps", "2", "--no-progress"]
    capsys.readouterr()
    with held_by_another_process(run):
        assert main(resume) == 2
        assert capsys.readouterr().err.strip().splitlines() == _refused(run)
    assert sorted(run.rglob("*")) == before  # nothing written
    new.mkdir()  # a new run's folder, before the first run in it has logged or saved
    with held_by_another_process(new):
        assert main([*new_run, str(new)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == _refused(new)
    assert list(new.iterdir()) == []
    assert main(resume) == 0  # free again
    assert read_checkpoint(run / "checkpoints" / "latest.pt")["step"] == 2


def test_a_forked_child_does_not_keep_the_folder_locked(tmp_path):
    """A DataLoader worker is a fork of the trainer: one that outlives a killed trainer (it sees its parent gone only
    within seconds) held its inherited copy of the lock, and a resume right after was refused as a run still going.
    The child closes its copy at the fork: once the parent lets go, the folder is free while the child lives."""
    run = tmp_path / "run"
    fd = lock_run_folder(run, cli=True)
    (read, write), (ready_read, ready_write) = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:  # the child (its fork hooks run): say so, wait for the parent's word, then go
        os.write(ready_write, b"1")
        os.read(read, 1)
        os._exit(0)
    try:
        assert os.read(ready_read, 1) == b"1"
        release(fd)  # as the trainer's end, however it comes: the child alone could still hold it
        release(lock_run_folder(run, cli=True))
    finally:
        os.write(write, b"1")
        os.waitpid(child, 0)
        for end in (read, write, ready_read, ready_write):
            os.close(end)
