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


@pytest.mark.parametrize("argv, message", [
    (["vocod"], "hifigan: error: argument COMMAND: invalid choice: 'vocod', did you mean 'vocode'? (choose from "),
    (["vocode", "--devcie", "cpu", "a.npy"], "hifigan vocode: error: unrecognized arguments: --devcie (did you mean "
     "--device?) ("),
    (["vocode", "a.npy", "--devcie=cpu"], "hifigan vocode: error: unrecognized arguments: --devcie=cpu (did you mean "
     "--device?) ("),
    (["vocode", "a.npy", "--devcie=cuda:0"], "hifigan vocode: error: unrecognized arguments: --devcie=cuda:0 (did you "
     "mean --device?) ("),  # the name alone is compared, not its value
    (["vocode", "-c", "g.pt", "--precison", "fp16", "--zzz", "a.npy"], "hifigan vocode: error: unrecognized "
     "arguments: --precison --zzz a.npy (--precison: did you mean --precision?) ("),
    (["vocode", "-c", "g.pt", "--precision", "fp61", "a.npy"], "hifigan vocode: error: argument --precision: invalid "
     "choice: 'fp61', did you mean 'fp16'? (choose from 'fp32', 'fp16', 'bf16') ("),
    (["--verison"], "hifigan: error: unrecognized arguments: --verison (did you mean --version?) ("),
    (["xyzzy"], "hifigan: error: argument COMMAND: invalid choice: 'xyzzy' (choose from 'mel', "),  # none close
    (["vocode", "--zzz", "a.npy"], "hifigan vocode: error: unrecognized arguments: --zzz ('hifigan vocode --help' "),
])
def test_a_misspelling_names_the_closest_spelling(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(message), err


def test_only_a_close_name_is_suggested_not_a_shared_prefix(capsys):
    """`--bogus` shares only its dashes and two letters with `--out`: no suggestion; `-device` is `--device`; a
    hidden old spelling (vocode's --output-dir) is not suggested."""
    for argv, hint in ((["mel", "--bogus", "a.wav"], ""), (["vocode", "-device", "cpu", "a.npy"],
                                                          " (did you mean --device?)"),
                       (["vocode", "--output-dri", "a.npy"], "")):
        with pytest.raises(SystemExit):
            main(argv)
        assert capsys.readouterr().err == (f"hifigan {argv[0]}: error: unrecognized arguments: {argv[1]}{hint} "
                                           f"('hifigan {argv[0]} --help' lists the options)\n")


WRITERS = {  # every command that takes -o, with the other arguments it needs to parse
    "mel": ["in.wav"], "vocode": ["-c", "g.pt", "in.wav"], "export": ["-c", "g.pt"], "train": ["--corpus", "c"],
    "evaluate": ["--reference", "r", "--system", "g"], "demo": ["--corpus", "c"], "listen": [],
    "export-official": ["-c", "g.pt"], "bench": [],
}


def test_o_dash_is_refused_by_every_command_that_takes_o(tmp_path, monkeypatch, capsys):
    """`-o -` reads as standard output, which no command writes to: one line, not a folder named `-`."""
    monkeypatch.chdir(tmp_path)
    takes_o = [p.prog.split()[-1] for p in _parsers(build_parser()) if "--out" in p._option_string_actions]
    assert sorted(takes_o) == sorted(WRITERS)
    given = [[c, *WRITERS[c], o, "-"] for c in WRITERS for o in ("-o", "--out")] + [["mel", "in.wav", "--out=-"]]
    old = [["vocode", "-c", "g.pt", "in.wav", "--output-dir", "-"], ["mel", "in.wav", "-"], ["bench", "--json", "-"]]
    for argv in given + old:
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
        err = capsys.readouterr().err
        assert err == (f"hifigan {argv[0]}: error: argument -o/--out: '-' (standard output) is not an output here: "
                       "the command writes files, so give a file or folder name (./- for one named -) "
                       f"('hifigan {argv[0]} --help' lists the options)\n"), argv
    assert list(tmp_path.iterdir()) == []


def test_an_option_several_commands_take_is_spelled_and_shown_alike():
    """One option, one spelling and one metavar in every command's --help (`--threads N`, not N in serve and THREADS
    in bench and listen); -o/--out alone names what each writes (OUT, DIR, FILE, JSON, STUDY)."""
    shown: dict[str, set[tuple]] = {}
    for sub in list(_parsers(build_parser()))[1:]:
        for action in sub._actions:
            if action.option_strings and action.help != argparse.SUPPRESS and action.dest not in ("help", "out"):
                metavar = action.metavar or (None if action.nargs == 0 else action.dest.upper())
                shown.setdefault(action.dest, set()).add((tuple(action.option_strings), metavar))
    assert {dest: ways for dest, ways in shown.items() if len(ways) > 1} == {}
    assert shown["threads"] == {(("--threads",), "N")}
