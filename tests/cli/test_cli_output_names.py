"""Issue #25: outputs are named what they are: mel writes a .npy, bench a .json, vocode a folder (a name like an
audio file is refused, unless it is an existing folder), export a file whose suffix agrees with its format; each
refusal one line, exit 2, nothing written."""

from __future__ import annotations

import pytest

from tests.support.cli_runs import SR, failed_cleanly, run, tone, wav


def test_mel_refuses_an_output_not_ending_in_npy(tmp_path, capsys, tiny_config_json):
    good = wav(tmp_path / "good.wav", tone(SR // 2))
    out = tmp_path / "out"
    code, _, err = run(capsys, "mel", good, "-o", out / "x.txt", "--config", tiny_config_json)
    failed_cleanly(code, err, out, "x.txt", "ending in .npy")


def test_mel_of_one_file_writes_into_an_existing_folder_named_like_a_npy(tmp_path, capsys, tiny_config_json):
    """mel of one file into an existing folder mels.npy/ was refused (`is a directory, expected an output file
    path`), though mel of several wrote into it: an existing folder takes <stem>.npy either way."""
    good = wav(tmp_path / "good.wav", tone(SR // 2))
    out = tmp_path / "mels.npy"
    out.mkdir()
    code, stdout, err = run(capsys, "mel", good, "-o", out, "--config", tiny_config_json)
    assert code == 0, err
    assert [p.name for p in out.iterdir()] == ["good.npy"]
    assert stdout == f"wrote 1 file to {out}\n"


@pytest.mark.parametrize("name", ["b.txt", "b", "b.json.bak"])
def test_bench_refuses_an_output_not_ending_in_json(tmp_path, capsys, tiny_config_json, name):
    """bench writes JSON: -o b.txt is refused before anything is timed (no table on stdout), as mel refuses a
    non-.npy name."""
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "bench", "--config", tiny_config_json, "-o", out / name, "--backends", "eager",
                            "--no-memory", "--seconds", "0.1", "--repeats", "1")
    failed_cleanly(code, err, out, name, "give a name ending in .json")
    assert stdout == ""


def test_bench_takes_a_json_name_in_any_case(tmp_path, capsys, tiny_config_json):
    """.JSON in any case is a JSON name (timed once: the refusals above differ only in the name refused)."""
    out = tmp_path / "out"
    code, _, err = run(capsys, "bench", "--config", tiny_config_json, "-o", out / "B.JSON", "--backends", "eager",
                       "--no-memory", "--seconds", "0.1", "--repeats", "1", "--quiet")
    assert code == 0 and (out / "B.JSON").is_file(), err


@pytest.mark.parametrize("name", ["out.wav", "out.FLAC"])
def test_vocode_refuses_an_output_folder_named_like_an_audio_file(tmp_path, capsys, tiny_checkpoint, good_wav, name):
    """vocode -o out.wav made a folder out.wav/ holding good.wav: -o is the folder, so an audio name is refused."""
    out = tmp_path / name
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, good_wav)
    line = failed_cleanly(code, err, out, name, "-o is the folder vocode writes <stem>.wav files into",
                          f"give a folder name (this one ends in {out.suffix})")
    assert line.startswith("hifigan vocode: error: ")


def test_vocode_writes_into_an_existing_folder_named_like_an_audio_file(tmp_path, capsys, tiny_checkpoint, good_wav):
    out = tmp_path / "x.wav"
    out.mkdir()
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, good_wav)
    assert code == 0, err
    assert (out / "good.wav").is_file()


@pytest.mark.parametrize(("fmt", "name", "problem"), [
    ("onnx", "x.pt", "--format onnx writes .onnx, not .pt"),
    ("onnx", "x.ts", "--format onnx writes .onnx, not .ts"),
    ("torchscript", "x.onnx", "--format torchscript writes .pt/.ts, not .onnx"),
    (None, "x.bin", "must name its format"),
    (None, "x", "must name its format"),
])
def test_export_refuses_an_extension_that_contradicts_the_format(tmp_path, capsys, tiny_checkpoint, fmt, name,
                                                                  problem):
    out = tmp_path / "out"
    code, _, err = run(capsys, "export", "-c", tiny_checkpoint, *(["--format", fmt] if fmt else []), "-o", out / name)
    failed_cleanly(code, err, out, name, problem)
