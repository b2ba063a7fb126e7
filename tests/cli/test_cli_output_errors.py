"""Issue #2/#6: an output that cannot be written (a file in the way, a full disk, a read-only mount) fails in one
line naming it, exit 2, and leaves no partial or temp file behind (an output that is one of the command's inputs:
test_cli_output_is_input.py)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli_runs import SR, commands_child, failed_cleanly, ran, run, run_commands, tone, wav


def test_output_folder_under_a_file(tmp_path, capsys, tiny_checkpoint, tiny_config_json, good_wav):
    """A file where an output folder, or a folder above it, would be: the line names that file (prepare_output_dir, the
    one maker of output folders, says it for every command)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file")
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", blocker / "out", good_wav)
    line = failed_cleanly(code, err, tmp_path / "nothing")
    assert line == f"hifigan vocode: error: {blocker / 'out'}: cannot create folder ({blocker} is a file, not a folder)"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", blocker, good_wav)
    failed_cleanly(code, err, tmp_path / "nothing", "blocker", "not a folder")
    code, _, err = run(capsys, "mel", good_wav, "-o", blocker / "x.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "nothing", "blocker", "not a folder")
    code, _, err = run(capsys, "mel", good_wav, "-o", blocker / "sub" / "x.npy", "--config", tiny_config_json)
    line = failed_cleanly(code, err, tmp_path / "nothing")
    assert line == f"hifigan mel: error: {blocker / 'sub'}: cannot create folder ({blocker} is a file, not a folder)"
    code, _, err = run(capsys, "export", "-c", tiny_checkpoint, "-o", blocker / "a" / "b" / "x.onnx")
    line = failed_cleanly(code, err, tmp_path / "nothing")
    assert line == (f"hifigan export: error: {blocker / 'a' / 'b'}: cannot create folder ({blocker} is a file, not a "
                    "folder)")
    assert blocker.read_text() == "a regular file"


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
    mel, vocode = run_commands(out, ["mel", good_wav, "-o", out / "x.npy", "--config", tiny_config_json],
                                 ["vocode", "-c", tiny_checkpoint, "-o", out, good_wav],
                                 preexec_fn=_fsize_limit(4096))  # the outputs are ~8 KB (vocode) and ~16 KB (mel)
    for (code, err, left), name in zip((mel, vocode), ("x.npy", "good.wav")):
        failed_cleanly(code, err, out, name, "cannot write", fresh=False)
        assert left == [], (name, left)


def _in_private_mounts(mounts: list[tuple[str, Path]], listed: Path, *argvs: list) -> list[tuple[int, str, list[str]]]:
    """Run each `hifigan ARGV` of `argvs` (tests.support.cli_runs.commands_child: one process) with a fresh tmpfs
    mounted on each folder of `mounts` ((mount options, folder) pairs) in a private mount namespace (unshare: no root
    needed where user namespaces are enabled; nothing leaks to the host); with each, what `listed` holds after it."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    script = 'while [ "$1" != -- ]; do mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; shift 2; done; shift; exec "$@"'
    command = ["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh",
               *(arg for options, folder in mounts for arg in (options, str(folder))), "--",
               *commands_child(listed, *argvs)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode == 99 or "unshare:" in proc.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {proc.stderr.strip()}")
    return ran(proc)


@pytest.fixture(scope="module")
def mounted_runs(tmp_path_factory, tiny_checkpoint, tiny_config_json) -> dict[str, list[tuple[int, str, list[str]]]]:
    """The commands of the two tests below, run in one process (torch imported once): into disk/, a 4 KB tmpfs too
    small for the outputs (each listing disk/ after it), and into ro/, a read-only tmpfs. By test: its runs."""
    root = tmp_path_factory.mktemp("mounts")
    disk, ro = root / "disk", root / "ro"
    disk.mkdir()
    ro.mkdir()
    good = wav(root / "good.wav", tone(SR // 2))
    runs = _in_private_mounts([("size=4k", disk), ("ro", ro)], disk,
                              ["mel", good, "-o", disk / "x.npy", "--config", tiny_config_json],
                              ["vocode", "-c", tiny_checkpoint, "-o", disk, good],
                              ["mel", good, "-o", ro / "x.npy", "--config", tiny_config_json],
                              ["vocode", "-c", tiny_checkpoint, "-o", ro, good],
                              ["vocode", "-c", tiny_checkpoint, "-o", ro / "sub", good])
    return {"full": runs[:2], "read-only": runs[2:]}


def test_full_disk_leaves_no_partial_file(mounted_runs, tmp_path):
    """A real full disk: a 4 KB tmpfs, too small for the outputs."""
    for (code, err, left), name in zip(mounted_runs["full"], ("x.npy", "good.wav"), strict=True):
        failed_cleanly(code, err, tmp_path / "nothing", name, "No space left on device")
        assert left == [], (name, left)


def test_read_only_output_folder(mounted_runs, tmp_path):
    """A read-only mount: not writable even for root (unlike permission bits)."""
    for (code, err, _), name in zip(mounted_runs["read-only"], ("ro", "ro", "sub"), strict=True):
        failed_cleanly(code, err, tmp_path / "nothing", name, "Read-only file system")


def test_vocode_refuses_to_write_non_finite_audio(tmp_path, capsys, tiny_checkpoint, good_wav):
    """Weights holding NaN (say, damaged bytes in a legacy file no checksum guards) make NaN audio: one line naming
    the input, no WAV (to_int16 would have written NaN as silence)."""
    import torch

    from hifigan.checkpoints.format import read_checkpoint, write_checkpoint

    obj = read_checkpoint(tiny_checkpoint)
    state = dict(obj["generator"])
    key = next(k for k in state if k.startswith("conv_post") and k.endswith("bias"))
    state[key] = torch.full_like(state[key], float("nan"))
    write_checkpoint(tmp_path / "nan.pt", {**obj, "generator": state})
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "nan.pt", "-o", out, good_wav)
    failed_cleanly(code, err, out, str(good_wav), "NaN or inf", fresh=False)
