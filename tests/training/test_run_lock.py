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
from hifigan.errors import HifiganError
from hifigan.training.run_lock import lock_run_folder, release

pytestmark = [pytest.mark.usefixtures("single_thread"),
              pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX only")]
# Not blocking: a lock this process failed to give back fails the test at once, not hangs it.
HOLD = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('held', flush=True); sys.stdin.read()")


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


def _open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open descriptors through /proc")
def test_a_second_lock_in_one_process_is_refused_and_kept_no_descriptor(tmp_path):
    """The lock is exclusive (a second open of the folder, even in this process, cannot take it), a refusal closes
    the descriptor it opened, and release closes the held one: the folder can be locked again."""
    run = tmp_path / "run"
    fd = lock_run_folder(run, cli=True)
    before = _open_descriptors()
    with pytest.raises(HifiganError, match="another hifigan train is running in this folder"):
        lock_run_folder(run, cli=True)
    assert _open_descriptors() == before
    release(fd)
    release(lock_run_folder(run, cli=True))


def _a_fork_keeps(fd: int) -> bool:
    """Whether a child forked now still has descriptor `fd` open."""
    child = os.fork()
    if child == 0:
        try:
            os.fstat(fd)
        except OSError:
            os._exit(1)
        os._exit(0)
    return os.waitpid(child, 0)[1] == 0


def test_a_lock_descriptor_number_reused_is_not_closed_by_a_later_fork(tmp_path):
    """A descriptor number that was a lock's, released (here) or closed by the fork (in a child), then reused for
    another file, stays open in a process forked after: only the locks held at the fork are closed."""
    run, other = tmp_path / "run", os.open(tmp_path / "other", os.O_CREAT | os.O_RDWR)
    try:
        fd = lock_run_folder(run, cli=True)
        child = os.fork()
        if child == 0:  # its copy of the lock closed by the fork: the number reused, then a grandchild forked
            os.dup2(other, fd)
            os._exit(0 if _a_fork_keeps(fd) else 1)
        assert os.waitpid(child, 0)[1] == 0
        release(fd)
        os.dup2(other, fd)
        assert _a_fork_keeps(fd)
        os.close(fd)
    finally:
        os.close(other)
