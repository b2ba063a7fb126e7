"""An output that is one of the command's inputs (the audio, the checkpoint, the config, a folder vocoded into itself)
is refused before anything is written, in one line naming the output and the input, however the file is spelled
(./x, absolute, a hard link); the input is left as it was."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from hifigan.cli import main
from hifigan.errors import split_problems
from tests.support.cli_runs import BINS, SR, failed_cleanly, files_in, run, tone, wav


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
