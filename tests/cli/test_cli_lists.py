"""One rule for every list option (cli/lists.py): one argument, its names comma-separated, shown as one plural word
(NAMES); evaluate --metrics and bench --presets, once space-separated, still take that spelling for one release with
a note. A list of folders, which may hold commas, is an option repeated (--system)."""

from __future__ import annotations

import argparse

import pytest

from hifigan.cli.lists import NameList
from tests.cli.test_cli_grammar import parse, subparsers

LISTS = [("bench", "--backends"), ("bench", "--presets"), ("evaluate", "--metrics"), ("train", "--valid-speakers")]


def test_every_option_of_several_values_is_a_comma_list():
    """Walking every parser: an option that takes several values is a NameList (several arguments only where the
    old spelling is kept) or the repeated --system; each list's help says `comma-separated`, its --help shows one
    plural word, never argparse's `NAME [NAME ...]`."""
    found = []
    for name, parser in subparsers().items():
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            several = action.nargs in ("+", "*") or isinstance(action, argparse._AppendAction)
            if isinstance(action, NameList):
                found.append((name, action.option_strings[0]))
                shown = parser._get_formatter()._format_args(action, action.dest.upper())
                assert "comma-separated" in action.help and shown in (action.metavar, f"[{action.metavar}]"), name
                assert action.metavar.endswith("S"), (name, action.metavar)
            else:
                assert not several or action.option_strings == ["--system"], (name, action.option_strings)
    assert sorted(found) == LISTS


@pytest.mark.parametrize(("argv", "dest", "names"), [
    (["evaluate", "--reference", "r", "--system", "s", "--metrics", "mel_l1,snr"], "metrics", ["mel_l1", "snr"]),
    (["evaluate", "--reference", "r", "--system", "s", "--metrics", " snr , lsd"], "metrics", ["snr", "lsd"]),
    (["bench", "--presets", "v1,v3"], "presets", ["v1", "v3"]),
    (["bench", "--presets"], "presets", []),  # alone: every preset
    (["bench", "--backends", "eager,fused:bf16"], "backends", ["eager", "fused:bf16"]),
    (["train", "--corpus", "c", "-o", "r", "--valid-speakers", "p225,p226"], "valid_speakers", ["p225", "p226"]),
    (["bench"], "backends", None),
])
def test_a_list_is_one_comma_separated_argument(argv, dest, names):
    args = parse(*argv)
    assert getattr(args, dest) == names and args.deprecations == []


def test_the_old_space_separated_lists_still_parse_with_a_note():
    args = parse("evaluate", "--reference", "r", "--system", "s", "--metrics", "mel_l1", "snr,lsd")
    assert args.metrics == ["mel_l1", "snr", "lsd"]
    assert args.deprecations == ["--metrics mel_l1 snr,lsd (space-separated) is deprecated, use --metrics "
                                 "mel_l1,snr,lsd"]
    args = parse("bench", "--presets", "v1", "v3")
    assert args.presets == ["v1", "v3"]
    assert args.deprecations == ["--presets v1 v3 (space-separated) is deprecated, use --presets v1,v3"]


@pytest.mark.parametrize(("argv", "message"), [
    (["bench", "--backends", "eager,,fused"], "argument --backends: a name is empty in 'eager,,fused' (names are "
     "separated by commas: a,b)"),
    (["evaluate", "--reference", "r", "--system", "s", "--metrics", "snr,"], "argument --metrics: a name is empty in "
     "'snr,'"),
    (["train", "--corpus", "c", "-o", "r", "--valid-speakers", "p225,,p226"], "argument --valid-speakers: a "
     "speaker's name is empty in 'p225,,p226'"),
])
def test_an_empty_name_is_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and message in err, err
