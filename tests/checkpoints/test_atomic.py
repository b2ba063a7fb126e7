"""Atomic output: a target is either its old content or the complete new one, and no temp file survives."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import save_audio
from hifigan.checkpoints.format import write_checkpoint
from hifigan.errors import HifiganError
from hifigan.files.atomic import atomic_path, atomic_paths
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from hifigan.inference.export import export_generator
from hifigan.mel_file import save_npy
from hifigan.models import Generator
from hifigan.training.reporting import mel_figure, save_figure
from tests.support.full_disk import LIMIT, file_size_limit
from tests.support.tiny import tiny_config


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_success_renames(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target and tmp.name.startswith(".")
        tmp.write_bytes(b"new")
        assert not target.exists()
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["out.bin"]


def test_the_file_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    """Durable on power loss: the data reach the disk before the name points at them, then the new name does."""
    import os

    events = []
    sync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))) or
                        sync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append(("replace", str(a), str(b))) or replace(a, b))
    with atomic_path(tmp_path / "out.bin") as tmp:
        tmp.write_bytes(b"data")
    assert events == [("fsync", str(tmp)), ("replace", str(tmp), str(tmp_path / "out.bin")), ("fsync", str(tmp_path))]


def test_output_mode_is_that_of_a_plain_open(tmp_path):
    """Not mkstemp's private 0600: other users may read outputs just as they could with open()."""
    (tmp_path / "plain.bin").write_bytes(b"x")
    with atomic_path(tmp_path / "out.bin") as tmp:
        tmp.write_bytes(b"x")
    assert (tmp_path / "out.bin").stat().st_mode == (tmp_path / "plain.bin").stat().st_mode


def test_previous_target_stays_until_complete(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new, half written")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new, half written"
    assert names(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_exception_inside_keeps_previous_target(tmp_path, error):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(type(error)), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise error
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.bin"]


def test_exception_inside_with_no_previous_target(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.bin") as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("crash")
    assert names(tmp_path) == []


def test_failed_write_leaves_no_temp_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with file_size_limit(), pytest.raises(HifiganError) as e, atomic_path(target) as tmp:
        tmp.write_bytes(b"x" * (4 * LIMIT))
    assert e.value.path == str(target) and e.value.problem == f"cannot write ({FILE_SIZE_LIMIT})"
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.bin"]


WRITERS = {
    "save_npy": lambda path: save_npy(path, np.zeros(4 * LIMIT, np.float32)),
    "save_audio": lambda path: save_audio(path, np.zeros(4 * LIMIT, np.float32), 22050),
    "write_checkpoint": lambda path: write_checkpoint(path, {"w": torch.zeros(4 * LIMIT)}),
    # ~90 kB; torch.jit.save's own file writer aborted the process on a failed write
    "export_torchscript": lambda path: export_generator(Generator(tiny_config()), "torchscript", path),
    # a PNG of noise, ~300 kB: the demo's mel figures; matplotlib wrote straight to the target
    "save_figure": lambda path: save_figure(mel_figure(*np.random.default_rng(0).random((2, 80, 400))), path),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_writers_fail_cleanly_when_the_disk_is_full(tmp_path, writer):
    """Each library writer (numpy, libsndfile, torch) reports a failed write as one HifiganError naming the file, and
    a file-size limit in the same words whether the writer gave EFBIG or no errno (torch's zip writer)."""
    target = tmp_path / "out.dat"
    target.write_bytes(b"old")
    with file_size_limit(), pytest.raises(HifiganError) as e:
        WRITERS[writer](target)
    assert e.value.path == str(target)
    assert e.value.problem == f"cannot write ({FILE_SIZE_LIMIT})"
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.dat"]


@pytest.mark.parametrize("writer", list(WRITERS))
def test_writers_write_complete_files(tmp_path, writer):
    target = tmp_path / "out.dat"
    WRITERS[writer](target)
    assert names(tmp_path) == ["out.dat"]
    if writer == "save_npy":
        assert np.load(target).shape == (4 * LIMIT,)
    elif writer == "save_audio":
        assert sf.info(target).frames == 4 * LIMIT
    elif writer == "export_torchscript":
        assert torch.jit.load(target)(torch.zeros(1, 16, 3)).shape == (1, 3 * 16)
    elif writer == "save_figure":  # the whole 10 x 3.2 in figure at 100 dpi
        assert plt.imread(target, format="png").shape[:2] == (320, 1000)
    else:
        assert torch.load(target, weights_only=True)["w"].shape == (4 * LIMIT,)


def test_missing_or_blocked_folder(tmp_path):
    with pytest.raises(HifiganError, match="does not exist"), atomic_path(tmp_path / "no" / "out.bin"):
        pass
    (tmp_path / "file").write_text("x")
    with pytest.raises(HifiganError, match="does not exist"), atomic_path(tmp_path / "file" / "out.bin"):
        pass
    assert names(tmp_path) == ["file"]


def test_relative_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with atomic_path("out.bin") as tmp:
        tmp.write_bytes(b"ok")
    assert names(tmp_path) == ["out.bin"]


@pytest.mark.parametrize(("free", "problem"), [(512 * 1024, "no space left on device"), (2 * 2**20, "boom")])
def test_a_write_failure_without_errno_is_a_full_disk_below_one_mebibyte_free(tmp_path, monkeypatch, free, problem):
    """numpy and torch raise without an errno: under 1 MiB free the disk is named full, else their message is kept."""
    import os

    from hifigan.files.write_failures import write_failure

    monkeypatch.setattr(os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 0, 0, free // 4096, 0, 0, 0, 0,
                                                                       255)))
    assert write_failure(tmp_path / "out.bin", RuntimeError("boom")).problem == f"cannot write ({problem})"


@pytest.mark.parametrize("existed", [False, True])
def test_a_pair_whose_second_rename_fails_undoes_the_first(tmp_path, existed):
    """atomic_paths([a, b]) (an official g_/do_ pair) where b's rename fails (b is a folder): a new `a` is removed
    again; an `a` that existed gets its old bytes back, and no temporary or backup file stays."""
    a, blocked = tmp_path / "a", tmp_path / "b"
    blocked.mkdir()
    (blocked / "inside").write_text("x")
    if existed:
        a.write_text("old")
    with pytest.raises(HifiganError, match=f"^{blocked}: cannot write"):
        with atomic_paths([a, blocked]) as (tmp_a, tmp_b):
            tmp_a.write_text("new")
            tmp_b.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == (["a", "b"] if existed else ["b"])
    assert not existed or a.read_text() == "old"
