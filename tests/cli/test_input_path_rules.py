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
