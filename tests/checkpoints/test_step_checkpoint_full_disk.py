"""A run's save that fails on a full disk keeps every checkpoint it would have replaced or removed (--keep), and
latest.pt as it was: the previous checkpoint stays until the new one is complete."""

from __future__ import annotations

import errno
import os

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint, write_checkpoint
from hifigan.checkpoints.run_files import SUPERSEDED, checkpoint_files, point_latest, save_step_checkpoint
from hifigan.errors import HifiganError, WriteError
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from tests.support.full_disk import LIMIT, file_size_limit

TOO_LARGE = {"w": torch.zeros(4 * LIMIT)}


def files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_keep_1_removes_nothing_when_the_next_save_fails(tmp_path):
    for step in (1, 2):
        save_step_checkpoint(tmp_path, step, {"step": torch.tensor(step)}, keep=1)
    before = files(tmp_path)
    assert list(before) == ["ckpt_00000002.pt", "latest.pt"]
    with file_size_limit(), pytest.raises(HifiganError) as e:
        save_step_checkpoint(tmp_path, 3, TOO_LARGE, keep=1, after=2)
    assert e.value.path == str(tmp_path / "ckpt_00000003.pt") and e.value.problem.startswith("cannot write")
    assert files(tmp_path) == before


def test_a_failed_save_over_an_abandoned_history_keeps_it_set_aside(tmp_path):
    """Resumed from step 1, the save at step 2 sets the other history's ckpt_2 aside before writing: the write
    fails, and that file is kept as .superseded, latest.pt still its; --resume continues from step 1."""
    for step in (1, 2):
        save_step_checkpoint(tmp_path, step, {"step": torch.tensor(step)}, keep=10)
    old = (tmp_path / "ckpt_00000002.pt").read_bytes()
    with file_size_limit(), pytest.raises(HifiganError):
        save_step_checkpoint(tmp_path, 2, TOO_LARGE, keep=1, after=1)
    assert {n: b for n, b in files(tmp_path).items() if n != "ckpt_00000001.pt"} == {
        f"ckpt_00000002.pt{SUPERSEDED}": old, "latest.pt": old}
    assert int(read_checkpoint(tmp_path / "latest.pt")["step"]) == 2
    assert checkpoint_files(tmp_path) == [tmp_path / "ckpt_00000001.pt"]  # what --resume continues from


def test_latest_copied_where_links_are_refused_fails_in_one_line_and_leaves_no_temporary(tmp_path, monkeypatch):
    """On a file system without hard links (os.link: EPERM, as FAT says) latest.pt is a copy: a full disk during the
    copy names latest.pt, leaves no .latest.pt.tmp, and keeps the new checkpoint and the previous latest.pt whole."""
    save_step_checkpoint(tmp_path, 1, {"step": torch.tensor(1)}, keep=10)
    write_checkpoint(tmp_path / "ckpt_00000002.pt", TOO_LARGE)  # complete: written before the disk fills
    before = files(tmp_path)

    def refused(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", refused)
    with file_size_limit(), pytest.raises(WriteError) as e:
        point_latest(tmp_path / "ckpt_00000002.pt")
    assert str(e.value) == f"{tmp_path / 'latest.pt'}: cannot write ({FILE_SIZE_LIMIT})"
    assert files(tmp_path) == before
    assert int(read_checkpoint(tmp_path / "latest.pt")["step"]) == 1
    point_latest(tmp_path / "ckpt_00000002.pt")  # with room again, a copy
    assert files(tmp_path)["latest.pt"] == before["ckpt_00000002.pt"]
    assert os.stat(tmp_path / "latest.pt").st_ino != os.stat(tmp_path / "ckpt_00000002.pt").st_ino


def test_a_file_where_the_checkpoints_folder_should_be_is_one_write_error_naming_it(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.write_bytes(b"not a folder")
    with pytest.raises(WriteError) as e:
        save_step_checkpoint(folder, 1, {"step": torch.tensor(1)}, keep=1)
    assert e.value.path == str(folder) and e.value.problem.startswith("cannot write (File exists")
    assert folder.read_bytes() == b"not a folder"
