"""Issue #2/#6: an output that cannot be written (a file in the way, a full disk, a read-only mount) fails in one
line naming it, exit 2, and leaves no partial or temp file behind."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli_runs import failed_cleanly, run, run_module


def test_output_folder_under_a_file(tmp_path, capsys, tiny_checkpoint, tiny_config_json, good_wav):
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file")
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", blocker / "out", good_wav)
    failed_cleanly(code, err, tmp_path / "nothing", "blocker", "cannot create folder")
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", blocker, good_wav)
    failed_cleanly(code, err, tmp_path / "nothing", "blocker", "not a folder")
    code, _, err = run(capsys, "mel", good_wav, "-o", blocker / "x.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "nothing", "blocker", "not a folder")
    code, _, err = run(capsys, "mel", good_wav, "-o", blocker / "sub" / "x.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "nothing", "blocker", "cannot create folder")
    assert blocker.read_text() == "a regular file"
    (tmp_path / "dir.npy").mkdir()
    code, _, err = run(capsys, "mel", good_wav, "-o", tmp_path / "dir.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "dir.npy", "dir.npy", "is a directory", fresh=False)


def test_an_output_name_taken_by_a_folder_fails_before_any_output(tmp_path, capsys, tiny_checkpoint, good_wav):
    """OUT/<stem>.wav that is a folder is found with the inputs' checks, not after the files before it are written."""
    first = tmp_path / "a.wav"
    shutil.copy(good_wav, first)
    out = tmp_path / "out"
    (out / "good.wav").mkdir(parents=True)
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, first, good_wav)
    line = failed_cleanly(code, err, out / "good.wav", "good.wav", "is a folder", fresh=False)
    assert line.startswith("hifigan vocode: error: ") and sorted(p.name for p in out.iterdir()) == ["good.wav"]


def test_check_output_file_refuses_a_folder_and_creates_the_file_folder(tmp_path, monkeypatch):
    """An output file path that is a folder is refused in one line naming it; otherwise its folder is created (the
    current one for a bare name) and the file itself is left for the writer."""
    from hifigan.cli.common import check_output_file
    from hifigan.errors import HifiganError

    with pytest.raises(HifiganError) as refused:
        check_output_file(tmp_path)
    assert str(refused.value) == f"{tmp_path}: is a directory, expected an output file path"
    check_output_file(tmp_path / "new" / "sub" / "g.pt")
    assert (tmp_path / "new" / "sub").is_dir() and list((tmp_path / "new" / "sub").iterdir()) == []
    monkeypatch.chdir(tmp_path / "new")
    check_output_file(Path("g.pt"))
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["sub"]


def _fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child: writes past `limit` bytes fail with EFBIG instead of killing it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_file_size_limit_leaves_no_partial_file(tmp_path, tiny_checkpoint, tiny_config_json, good_wav):
    """A full disk, simulated portably: RLIMIT_FSIZE makes the output write fail part-way (EFBIG)."""
    out = tmp_path / "out"
    out.mkdir()
    limit = _fsize_limit(4096)  # the outputs are ~8 KB (vocode) and ~16 KB (mel)
    proc = run_module("mel", good_wav, "-o", out / "x.npy", "--config", tiny_config_json, preexec_fn=limit)
    failed_cleanly(proc.returncode, proc.stderr, out, "x.npy", "cannot write", fresh=False)
    proc = run_module("vocode", "-c", tiny_checkpoint, "-o", out, good_wav, preexec_fn=limit)
    failed_cleanly(proc.returncode, proc.stderr, out, "good.wav", "cannot write", fresh=False)


def _in_private_mount(mount_options: str, folder: Path, *argv) -> subprocess.CompletedProcess:
    """Run `python -m hifigan ARGV` with a fresh tmpfs mounted on `folder` in a private mount namespace
    (unshare: no root needed where user namespaces are enabled; nothing leaks to the host), then list it."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    script = 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; shift 2; "$@"; rc=$?; echo "LEFT:$(ls -A "$0")"; exit $rc'
    command = ["unshare", "--mount", "--map-root-user", "sh", "-c", script, str(folder), mount_options, str(folder),
               sys.executable, "-m", "hifigan", *map(str, argv)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode == 99 or "unshare:" in proc.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {proc.stderr.strip()}")
    return proc


def _left(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.rsplit("LEFT:", 1)[1].strip()


def test_full_disk_leaves_no_partial_file(tmp_path, tiny_checkpoint, tiny_config_json, good_wav):
    """A real full disk: a 4 KB tmpfs, too small for the outputs."""
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = _in_private_mount("size=4k", disk, "mel", good_wav, "-o", disk / "x.npy", "--config", tiny_config_json)
    failed_cleanly(proc.returncode, proc.stderr, tmp_path / "nothing", "x.npy", "No space left on device")
    assert _left(proc) == ""
    proc = _in_private_mount("size=4k", disk, "vocode", "-c", tiny_checkpoint, "-o", disk, good_wav)
    failed_cleanly(proc.returncode, proc.stderr, tmp_path / "nothing", "good.wav", "No space left on device")
    assert _left(proc) == ""


def test_read_only_output_folder(tmp_path, tiny_checkpoint, tiny_config_json, good_wav):
    """A read-only mount: not writable even for root (unlike permission bits)."""
    disk = tmp_path / "ro"
    disk.mkdir()
    proc = _in_private_mount("ro", disk, "mel", good_wav, "-o", disk / "x.npy", "--config", tiny_config_json)
    failed_cleanly(proc.returncode, proc.stderr, tmp_path / "nothing", "ro", "Read-only file system")
    proc = _in_private_mount("ro", disk, "vocode", "-c", tiny_checkpoint, "-o", disk, good_wav)
    failed_cleanly(proc.returncode, proc.stderr, tmp_path / "nothing", "ro", "Read-only file system")
    proc = _in_private_mount("ro", disk, "vocode", "-c", tiny_checkpoint, "-o", disk / "sub", good_wav)
    failed_cleanly(proc.returncode, proc.stderr, tmp_path / "nothing", "sub", "Read-only file system")
