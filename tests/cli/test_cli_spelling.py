"""Options are spelled in full: no abbreviation picks an option (a later option would make a script's `--res`
ambiguous, or another option's)."""

import argparse

import pytest

from hifigan.cli import build_parser, main


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_no_parser_takes_abbreviations():
    parsers = list(_parsers(build_parser()))
    assert len(parsers) == 14  # hifigan and its 13 commands
    assert [p.prog for p in parsers if p.allow_abbrev] == []


@pytest.mark.parametrize("argv, unknown", [
    (["vocode", "--outp", "x", "a.wav"], "--outp"),  # once the deprecated --output-dir
    (["train", "--res", "r"], "--res"),  # once "ambiguous: --resample, --resume"
    (["mel", "a.wav", "--conf=v1"], "--conf=v1"),  # once --config
])
def test_an_abbreviation_is_an_unknown_option(capsys, argv, unknown):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hifigan {argv[0]}: error: unrecognized arguments: {unknown}") and err.count("\n") == 1


def test_full_spellings_aliases_and_grouped_short_flags_still_parse():
    args = build_parser().parse_args(["vocode", "-qc", "g.pt", "--output-dir=o", "--mel-convention=log10", "a.npy"])
    assert (args.quiet, str(args.checkpoint), str(args.old_out_option), args.mel_convention) == (
        True, "g.pt", "o", "log10")
    assert build_parser().parse_args(["evaluate", "--reference", "r", "--generated", "s"]).system == ["s"]
