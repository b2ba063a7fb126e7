"""Issue #2/#6: an output that cannot be written (a file in the way, a full disk, a read-only mount) fails in one
line naming it, exit 2, and leaves no partial or temp file behind."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hifigan.cli import main
from hifigan.errors import split_problems
from tests.support.cli_runs import BINS, SR, commands_child, failed_cleanly, files_in, ran, run, run_commands, tone, wav


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


# ---------------------------------------------------------------- an output that is one of the command's inputs
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(code: int, err: str, name: str, *unchanged: tuple[Path, str]) -> str:
    """Exit 2, one line naming `name` and the overwrite, and every (file, digest before) of `unchanged` as it was."""
    line = failed_cleanly(code, err, Path("nothing"), name, "would overwrite the input")
    for path, before in unchanged:
        assert _digest(path) == before, f"{path} was overwritten"
    return line


def test_vocode_refuses_an_output_that_is_an_input(tmp_path, capsys, monkeypatch, tiny_checkpoint, good_wav):
    """vocode -o DIR --evaluate DIR/x.wav would replace the recording it then scores (SNR 100 dB): refused, through
    `./` and a symlinked folder as well, before OUT is touched."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(good_wav, data / "x.wav")
    before = _digest(data / "x.wav")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", data, "--evaluate", "./data/x.wav")
    line = _refused(code, err, "x.wav", (data / "x.wav", before))
    assert line.startswith("hifigan vocode: error: ") and "choose another -o" in line
    (tmp_path / "link").symlink_to(data)
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", "link", data / "x.wav")
    _refused(code, err, "x.wav", (data / "x.wav", before))
    assert files_in(data) == ["x.wav"] and files_in(tmp_path) == ["data", "good.wav", "link"]


def test_an_overwritten_input_is_listed_as_one_item(tmp_path, capsys, tiny_checkpoint):
    """An output that would overwrite its input, listed among other bad inputs, is one item of the list."""
    (tmp_path / "out").mkdir()
    inside = wav(tmp_path / "out" / "x.wav", tone(SR // 2))
    bad = tmp_path / "m.npy"
    np.save(bad, np.zeros((BINS + 1, 30), np.float32))
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", inside, bad)
    line = failed_cleanly(code, err, tmp_path / "nothing", "2 of 2 inputs are bad")
    listed = split_problems(line)
    assert [re.sub(r":.*", "", item) for item in listed] == [str(inside), str(bad)]


def test_vocoding_a_folder_into_itself_again_counts_each_input_once(tmp_path, capsys, tiny_checkpoint):
    """`vocode -o mels/ mels/` run a second time finds x.npy beside the x.wav it wrote: both write mels/x.wav, which
    is an input. Each input is one problem (the output that would overwrite x.wav said once, x.wav's same-name
    problem after it), not "3 of 2 inputs are bad" with the overwrite listed twice; a bad mel whose output is the
    problem already is not read."""
    folder = tmp_path / "mels"
    folder.mkdir()
    np.save(folder / "x.npy", np.full((BINS, 30), -5.0, np.float32))
    np.save(folder / "y.npy", np.zeros((BINS + 1, 30), np.float32))  # wrong bins, but its y.wav is the problem
    for stem in ("x", "y"):
        wav(folder / f"{stem}.wav", tone(SR // 4))
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", folder, folder)
    line = failed_cleanly(code, err, tmp_path / "nothing", "4 of 4 inputs are bad")
    overwrite = "the output would overwrite the input file (choose another -o)"
    assert split_problems(line) == [f"{folder / 'x.wav'}: {overwrite}",
                                    f"{folder / 'x.wav'}: same output name as {folder / 'x.npy'} (x.wav)",
                                    f"{folder / 'y.wav'}: {overwrite}",
                                    f"{folder / 'y.wav'}: same output name as {folder / 'y.npy'} (y.wav)"]


def test_mel_refuses_to_overwrite_its_input(tmp_path, capsys, monkeypatch, tiny_config_json, good_wav):
    """Audio named x.npy (soundfile reads it by its header) is not replaced by its own mel."""
    shutil.copy(good_wav, tmp_path / "x.npy")
    before = _digest(tmp_path / "x.npy")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "mel", "x.npy", "-o", "./x.npy", "--config", tiny_config_json)
    _refused(code, err, "x.npy", (tmp_path / "x.npy", before))
    assert files_in(tmp_path) == ["good.wav", "x.npy"]


def test_export_refuses_to_overwrite_the_checkpoint(tmp_path, capsys, monkeypatch, tiny_checkpoint):
    """export -c X.pt -o X.pt replaced the training checkpoint with the exported model; also through `./`, an
    absolute path and a symlink."""
    shutil.copy(tiny_checkpoint, tmp_path / "X.pt")
    (tmp_path / "link.pt").symlink_to(tmp_path / "X.pt")
    before = _digest(tmp_path / "X.pt")
    monkeypatch.chdir(tmp_path)
    for out in ("X.pt", "./X.pt", tmp_path / "X.pt", "link.pt"):
        code, _, err = run(capsys, "export", "-c", "X.pt", "-o", out)
        line = _refused(code, err, Path(out).name, (tmp_path / "X.pt", before))
        assert "the input checkpoint (-c)" in line and "choose another -o" in line
    assert files_in(tmp_path) == ["X.pt", "link.pt"] and (tmp_path / "link.pt").is_symlink()


def test_export_official_refuses_to_overwrite_the_checkpoint(tmp_path, capsys, tiny_checkpoint):
    """A checkpoint named as its own g_<step> in the output folder: refused after it is read, before any file."""
    with pytest.warns(UserWarning, match="the official code cannot load it"):  # the tiny generator's 16 mel bins
        assert main(["export-official", "-c", str(tiny_checkpoint), "-o", str(tmp_path / "first"), "--quiet"]) == 0
    capsys.readouterr()
    (name,) = [name for name in files_in(tmp_path / "first") if name.startswith("g_")]  # beside config.json
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(tiny_checkpoint, folder / name)
    before = _digest(folder / name)
    code, _, err = run(capsys, "export-official", "-c", folder / name, "-o", f"{folder}/./")
    _refused(code, err, name, (folder / name, before))
    assert files_in(folder) == [name]


def test_bench_refuses_to_overwrite_its_config(tmp_path, capsys, monkeypatch, tiny_config_json):
    shutil.copy(tiny_config_json, tmp_path / "c.json")
    before = _digest(tmp_path / "c.json")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "bench", "--config", "c.json", "-o", tmp_path / "c.json", "--backends", "eager",
                       "--no-memory", "--seconds", "0.1", "--repeats", "1")
    assert "the input config (--config) c.json" in _refused(code, err, "c.json", (tmp_path / "c.json", before))
    assert files_in(tmp_path) == ["c.json"]


def test_evaluate_refuses_to_overwrite_its_config(tmp_path, capsys, monkeypatch, tiny_config_json, good_wav):
    """-o ./c.json is the prefix c: its report c.json would replace the --config file the metrics were measured with."""
    for folder in ("ref", "gen"):
        (tmp_path / folder).mkdir()
        shutil.copy(good_wav, tmp_path / folder / "a.wav")
    shutil.copy(tiny_config_json, tmp_path / "c.json")
    before = _digest(tmp_path / "c.json")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "evaluate", "--reference", "ref", "--system", "gen", "--config", "c.json",
                       "--metrics", "mel_l1", "-o", "./c.json")
    _refused(code, err, "c.json", (tmp_path / "c.json", before))
    assert files_in(tmp_path) == ["c.json", "gen", "good.wav", "ref"]


def test_same_file_spellings_hard_links_and_several_outputs(tmp_path, monkeypatch):
    """One file however spelled (./x, relative vs absolute), a hard link to it, and every overwriting output named
    once, in one line."""
    import os

    from hifigan.cli.model_source import config_file
    from hifigan.cli.overwrites import overwritten_inputs, refuse_overwriting
    from hifigan.errors import HifiganError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.wav").write_bytes(b"x")
    os.link(tmp_path / "in.wav", tmp_path / "link.wav")
    (tmp_path / "b.json").write_text("{}")
    inputs = [("audio", "in.wav"), ("config", tmp_path / "b.json"), ("none", None)]
    assert len(overwritten_inputs([Path("./in.wav")], inputs)) == 1
    assert len(overwritten_inputs([tmp_path / "in.wav"], inputs)) == 1
    assert len(overwritten_inputs([Path("link.wav")], inputs)) == 1
    assert overwritten_inputs([Path("other.wav")], inputs) == []
    assert len(overwritten_inputs([Path("./gone.wav")], [("audio", tmp_path / "gone.wav")])) == 1  # neither exists
    both = [("audio", "in.wav"), ("again", "./in.wav")]
    assert len(overwritten_inputs([Path("in.wav")], both)) == 1  # one error per output
    with pytest.raises(HifiganError) as err:
        refuse_overwriting(iter([Path("link.wav"), Path("b.json"), Path("c.wav")]), iter(inputs), "--out")
    assert str(err.value) == (  # as several bad inputs are listed (errors.bad_inputs)
        "2 of 3 outputs are bad (nothing was written): link.wav: the output would overwrite the input audio in.wav "
        f"(choose another --out) | b.json: the output would overwrite the input config {tmp_path / 'b.json'} "
        "(choose another --out)")
    assert config_file("b.json") == "b.json" and config_file("v1") is None and config_file(None) is None


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


def test_overwritten_inputs_of_a_corpus_name_the_one_input_an_output_would_replace(tmp_path):
    """`mel`/`vocode` of a corpus check each output against every input by keys in one pass (pair by pair took 5.8
    million same_file calls, ~6 minutes, for 2 400 clips: a speed the benchmarks, not a timed test, hold); among
    hundreds of outputs, the one that is an input is named, once, with its input."""
    from hifigan.cli.overwrites import overwritten_inputs

    clips = [tmp_path / "corpus" / f"c{i:04d}.wav" for i in range(300)]
    outputs = [tmp_path / "mels" / f"c{i:04d}.npy" for i in range(300)] + [tmp_path / "corpus" / "c0007.wav"]
    problems = overwritten_inputs(outputs, [("audio", clip) for clip in clips])
    assert [str(p) for p in problems] == [f"{clips[7]}: the output would overwrite the input audio (choose "
                                          "another -o)"]
