"""Files written as a unit (atomic_paths): a rename that fails after earlier ones replaced their targets puts the
previous files back, and a kill in the middle loses none of them."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hifigan.errors import HifiganError
from hifigan.files.atomic import atomic_paths
from hifigan.files.leftovers import remove_leftovers
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from tests.support.full_disk import LIMIT, file_size_limit


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def refuse_links(*args, **kwargs):
    raise OSError(errno.EPERM, "Operation not permitted")


@pytest.mark.parametrize("links", [True, False], ids=["hard-link", "copy"])
def test_a_failed_rename_puts_back_the_files_already_replaced(tmp_path, monkeypatch, links):
    """a and b are replaced, then c cannot be (it became a non-empty folder): a and b hold their old bytes again.
    Where hard links are refused (some file systems), the previous files are copied aside instead."""
    if not links:
        monkeypatch.setattr(os, "link", refuse_links)
    old = {"a.bin": b"old a", "b.bin": b"old b, longer"}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(HifiganError) as e, atomic_paths([tmp_path / n for n in ("a.bin", "b.bin", "c.bin")]) as temps:
        for tmp in temps:
            tmp.write_bytes(b"new " + tmp.name.encode())
        (tmp_path / "c.bin").mkdir()
        (tmp_path / "c.bin" / "kept").write_bytes(b"x")
    assert e.value.path == str(tmp_path / "c.bin") and e.value.problem.startswith("cannot write (")
    assert {n: (tmp_path / n).read_bytes() for n in old} == old
    assert names(tmp_path) == ["a.bin", "b.bin", "c.bin"] and names(tmp_path / "c.bin") == ["kept"]


def test_a_previous_file_that_cannot_be_copied_aside_fails_the_write_before_any_rename(tmp_path, monkeypatch):
    """No hard links and no room for a copy of the previous a: one line naming a, and both old files as they were."""
    monkeypatch.setattr(os, "link", refuse_links)
    old = {"a.bin": b"a" * (2 * LIMIT), "b.bin": b"old b"}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    with file_size_limit(), pytest.raises(HifiganError) as e, atomic_paths([tmp_path / n for n in old]) as temps:
        for tmp in temps:
            tmp.write_bytes(b"new")
    assert e.value.path == str(tmp_path / "a.bin") and e.value.problem == f"cannot write ({FILE_SIZE_LIMIT})"
    assert {n: (tmp_path / n).read_bytes() for n in old} == old and names(tmp_path) == ["a.bin", "b.bin"]


def test_a_new_unit_replaces_the_previous_one_and_leaves_no_backup(tmp_path):
    (tmp_path / "a").write_bytes(b"old a")
    (tmp_path / "a.b").symlink_to("a")  # a link is replaced, not what it points at
    with atomic_paths([tmp_path / "a.b", tmp_path / "a"]) as (ab, a):
        ab.write_bytes(b"new a.b")
        a.write_bytes(b"new a")
    assert [(tmp_path / n).read_bytes() for n in ("a.b", "a")] == [b"new a.b", b"new a"]
    assert not (tmp_path / "a.b").is_symlink() and names(tmp_path) == ["a", "a.b"]


KILLED_AT_THE_SECOND_RENAME = """
import os, signal, sys
from pathlib import Path
from hifigan.files.atomic import atomic_paths
from hifigan.files.leftovers import remove_leftovers
replace, renames = os.replace, []
def replace_then_die(src, dst):
    if Path(dst).name in ("g", "do"):
        renames.append(dst)
        if len(renames) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst)
os.replace = replace_then_die
folder = Path(sys.argv[1])
with atomic_paths([folder / "g", folder / "do"]) as (g, do):
    g.write_bytes(b"new g")
    do.write_bytes(b"new do")
"""


def test_a_kill_between_the_renames_keeps_the_replaced_file_beside_it_until_the_next_write(tmp_path):
    """SIGKILL after g was replaced, before do: g is new, do is old, and the old g is a hidden backup (.g.*.old.tmp,
    which no checkpoint listing takes); the next complete write of g removes it, as a training run's folder does."""
    (tmp_path / "g").write_bytes(b"old g")
    (tmp_path / "do").write_bytes(b"old do")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", KILLED_AT_THE_SECOND_RENAME, str(tmp_path)], env=env, check=False)
    assert done.returncode == -9
    backups = [p for p in tmp_path.iterdir() if p.name.startswith(".g.") and p.name.endswith(".old.tmp")]
    assert [p.read_bytes() for p in backups] == [b"old g"]
    assert (tmp_path / "g").read_bytes() == b"new g" and (tmp_path / "do").read_bytes() == b"old do"
    with atomic_paths([tmp_path / "g", tmp_path / "do"]) as (g, do):
        g.write_bytes(b"newer g")
        do.write_bytes(b"newer do")
    assert not any(p.exists() for p in backups)
    stale_temporary = [p.name for p in tmp_path.iterdir() if p.name.startswith(".do.")]  # do's, left by the kill
    assert len(stale_temporary) == 1
    remove_leftovers(tmp_path, locked=True)  # a training run's folder: training.trainer's open_log
    assert names(tmp_path) == ["do", "g"]
