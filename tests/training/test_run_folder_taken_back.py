"""A new run whose write fails before its first checkpoint takes back the files it wrote in its run folder
(training.run_folder), so that the command removes the folders it made; a checkpoint, a file the run did not write, a
folder that was there before, another failure (a divergence: its logs tell what happened) and a Ctrl-C keep them."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest

from hifigan.errors import HifiganError, WriteError
from hifigan.files.output_folders import prepare_output_dir, removing_new_folders
from hifigan.files.write_failures import write_failure
from hifigan.training.run_folder import taken_back_unless_saved

RUN_FILES = ["checkpoints/", "log.jsonl", "logs/", "logs/events.out.tfevents.1.host.1.0", "scan-cache.npz",
             "skipped.tsv"]  # what a run that failed at its first save leaves (skipped.tsv: where files were skipped)


def _listing(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() + ("/" if p.is_dir() else "") for p in out.rglob("*"))


def _write_and_fail(out: Path, error: BaseException, extra: tuple[str, ...] = ()) -> None:
    """A run writing its files (and `extra` ones) in `out`, then failing with `error`."""
    prepare_output_dir(out / "checkpoints")
    for name in [n for n in RUN_FILES if not n.endswith("/")] + list(extra):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(name)
    raise error


@pytest.mark.parametrize(("new", "error", "extra", "left"), [
    (True, OSError(27, "File too large"), (), ["checkpoints/"]),  # the empty folder removing_new_folders removes
    (True, WriteError("ckpt_00000010.pt", "cannot write (No space left on device)"), ("notes.txt", "logs/mine.txt"),
     ["checkpoints/", "logs/", "logs/mine.txt", "notes.txt"]),
    (True, HifiganError(None, "training diverged"), (), RUN_FILES),  # its logs tell what happened: they stay
    (True, OSError(27, "File too large"), ("checkpoints/ckpt_00000001.pt",), [*RUN_FILES[:1],
                                                                              "checkpoints/ckpt_00000001.pt",
                                                                              *RUN_FILES[1:]]),
    (False, OSError(27, "File too large"), (), RUN_FILES),
    (True, KeyboardInterrupt(), (), RUN_FILES),  # a second Ctrl-C: the logs stay, as training.md says
])
def test_a_failed_new_run_without_a_checkpoint_takes_back_only_its_own_files(tmp_path, new, error, extra, left):
    out = tmp_path / "run"
    with pytest.raises(type(error)), taken_back_unless_saved(out, new, cli=True):
        _write_and_fail(out, error, extra)
    assert _listing(out) == left


def test_the_command_then_removes_the_run_folders_it_made(tmp_path):
    """Under removing_new_folders (every command's), the emptied run folder and the parent made for it go."""
    out = tmp_path / "new" / "run"
    with pytest.raises(OSError), removing_new_folders(), taken_back_unless_saved(out, True, cli=True):
        _write_and_fail(out, OSError(27, "File too large"))
    assert _listing(tmp_path) == []


def test_a_failed_write_after_a_checkpoint_keeps_every_file_and_names_the_newest(tmp_path):
    """A new run's log fills after its checkpoints: nothing is taken back, and the one line says the run stopped and
    which checkpoint to --resume from."""
    out = tmp_path / "run"
    saved = ("checkpoints/ckpt_00000002.pt", "checkpoints/ckpt_00000010.pt")
    with pytest.raises(WriteError) as failed, taken_back_unless_saved(out, True, cli=True):
        _write_and_fail(out, WriteError(out / "log.jsonl", "cannot write (No space left on device)"), saved)
    assert str(failed.value) == (f"{out}/log.jsonl: cannot write (No space left on device): the run stopped, and its "
                                 f"newest checkpoint is {out / saved[1]} (make room, then --resume {out})")
    assert _listing(out) == sorted([*RUN_FILES, *saved])


@pytest.mark.parametrize(("code", "remedy"), [(errno.ENOSPC, "make room"),
                                               (errno.EISDIR, "move the folder out of its way"),
                                               (errno.EACCES, "make its folder writable"),
                                               (errno.EROFS, "make the file system writable"),
                                               (errno.EIO, "fix that")])
def test_the_advice_after_a_failed_write_follows_its_cause(tmp_path, code, remedy):
    """Only a full disk wants room made: a folder in the way, permissions or a read-only file system want their own
    fix (and another errno no guess); the remedy survives the pickling that passes it between torchrun's ranks."""
    out = tmp_path / "run"
    error = write_failure(out / "log.jsonl", OSError(code, os.strerror(code)))
    with pytest.raises(WriteError) as failed, taken_back_unless_saved(out, True, cli=True):
        _write_and_fail(out, error, ("checkpoints/ckpt_00000002.pt",))
    assert str(failed.value).endswith(f"{out / 'checkpoints/ckpt_00000002.pt'} ({remedy}, then --resume {out})")
    assert pickle.loads(pickle.dumps(failed.value)).remedy == remedy
