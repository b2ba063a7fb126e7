"""The flat OUT/<stem><suffix> names of mel and vocode of many inputs (hifigan.cli.input_paths), on names alone: every
later input of a stem is named with the first (test_cli_output_names holds -o's own rule)."""

from __future__ import annotations

from pathlib import Path

from hifigan.cli.input_paths import output_name_problems
from tests.support.cli_runs import SR, failed_cleanly, run, tone, wav


def test_every_later_input_of_a_stem_is_named_with_the_first():
    files = [Path("a/x.wav"), Path("b/x.wav"), Path("c/x.wav"), Path("c/y.wav")]
    problems = output_name_problems(files, Path("out"), ".npy")
    assert [str(e) for e in problems] == ["b/x.wav: same output name as a/x.wav (x.npy)",
                                          "c/x.wav: same output name as a/x.wav (x.npy)"]



def test_one_file_given_twice_is_named_as_such(tmp_path, capsys, tiny_config_json):
    """`mel a.wav ./a.wav` (two globs that overlap) was refused as `a.wav: same output name as a.wav (a.npy)`, one
    path named twice as if two files clashed: it says the file was given twice, however spelled."""
    clip = wav(tmp_path / "a.wav", tone(SR // 2))
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "a.wav").symlink_to(clip)
    out = tmp_path / "mels"
    for again in (clip, tmp_path / "." / "a.wav"):
        code, _, err = run(capsys, "mel", clip, again, "-o", out, "--config", tiny_config_json)
        failed_cleanly(code, err, out, f"{clip}: the same file as {clip}: an input given twice")
    problems = output_name_problems([clip, tmp_path / "l" / "a.wav", tmp_path / "b" / "a.wav"], out, ".npy")
    assert [str(e) for e in problems] == [f"{tmp_path / 'l' / 'a.wav'}: the same file as {clip}: an input given "
                                          "twice (give each once)",
                                          f"{tmp_path / 'b' / 'a.wav'}: same output name as {clip} (a.npy)"]


def test_a_file_given_twice_is_said_so_before_a_clash_with_another_of_its_stem(tmp_path, capsys, tiny_config_json):
    """`mel b/x.wav a/x.wav a/x.wav`: the third input is a/x.wav again (given twice), not a clash with b/x.wav."""
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    a, b = (wav(tmp_path / d / "x.wav", tone(SR // 4)) for d in ("a", "b"))
    problems = output_name_problems([b, a, tmp_path / "a" / "." / "x.wav", b], tmp_path / "out", ".npy")
    assert [str(e) for e in problems] == [f"{a}: same output name as {b} (x.npy)",
                                          f"{a}: the same file as {a}: an input given twice (give each once)",
                                          f"{b}: the same file as {b}: an input given twice (give each once)"]
    out = tmp_path / "mels"
    code, _, err = run(capsys, "mel", b, a, a, "-o", out, "--config", tiny_config_json)
    failed_cleanly(code, err, out, f"2 of 3 inputs are bad (nothing was written): {a}: same output name as {b} "
                                   f"(x.npy) | {a}: the same file as {a}: an input given twice")
