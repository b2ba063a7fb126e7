"""The flat OUT/<stem><suffix> names of mel and vocode of many inputs (hifigan.cli.input_paths), on names alone: every
later input of a stem is named with the first (test_cli_output_names holds -o's own rule)."""

from __future__ import annotations

from pathlib import Path

from hifigan.cli.input_paths import output_name_problems


def test_every_later_input_of_a_stem_is_named_with_the_first():
    files = [Path("a/x.wav"), Path("b/x.wav"), Path("c/x.wav"), Path("c/y.wav")]
    problems = output_name_problems(files, Path("out"), ".npy")
    assert [str(e) for e in problems] == ["b/x.wav: same output name as a/x.wav (x.npy)",
                                          "c/x.wav: same output name as a/x.wav (x.npy)"]

