"""Every command-line count and range is refused in one wording, config.values' (`argument --threads: must be an
integer >= 1, got 0`), as a usage error at parse time: one line, exit 2. The table finds the options in the
parsers, so an option added with a bare type=int or type=float fails it."""

from __future__ import annotations

import argparse

import pytest

from hifigan.cli import build_parser, main
from hifigan.cli.common import Amount, Count
from hifigan.errors import HifiganError
from hifigan.evaluation.listening.serve import check_screen
from hifigan.runtime.sockets import bind
from hifigan.serve.limits import ServeOptions
from hifigan.training.options import check_counts


def _numeric_options() -> list[tuple[str, str, object]]:
    """(command, option, its type) for every option of every command whose value is a number."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, parser in sub.choices.items():
        for action in parser._actions:
            numeric = action.type in (int, float) or isinstance(action.type, Count | Amount)
            if numeric and action.option_strings and action.help != argparse.SUPPRESS:
                found.append((command, action.option_strings[0], action.type))
    return found


OPTIONS = _numeric_options()


def _outside(rule: Count | Amount) -> str:
    """A value just below the rule's low end (its low end itself where that end is open)."""
    if isinstance(rule, Count):
        return str(rule.minimum - 1)
    return repr(float(rule.low)) if rule.low_open else repr(float(rule.low) - 1)


def test_the_table_finds_the_options():
    names = {(c, o) for c, o, _ in OPTIONS}
    assert {("serve", "--threads"), ("vocode", "--batch"), ("bench", "--repeats"), ("train", "--num-workers"),
            ("demo", "--valid-count"), ("listen", "--port"), ("serve", "--max-frames"),
            ("evaluate", "--max-shift")} <= names
    assert len(OPTIONS) >= 50, len(OPTIONS)


@pytest.mark.parametrize(("command", "option", "rule"), OPTIONS, ids=[f"{c} {o}" for c, o, _ in OPTIONS])
def test_every_count_and_range_is_refused_in_one_wording(tmp_path, monkeypatch, capsys, command, option, rule):
    assert isinstance(rule, Count | Amount), f"{command} {option} takes a number outside the rule (type={rule})"
    monkeypatch.chdir(tmp_path)
    value = _outside(rule)
    with pytest.raises(SystemExit) as exit_:
        main([command, f"{option}={value}"])
    out, err = capsys.readouterr()
    kind = "an integer" if isinstance(rule, Count) else "a number"
    shown = value if isinstance(rule, Count) else repr(float(value))
    assert exit_.value.code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"hifigan {command}: error: argument {option}: must be {kind} "), err
    assert f", got {shown} ('hifigan {command} --help' lists the options)\n" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "words"), [
    (["serve", "--threads", "0"], "argument --threads: must be an integer >= 1, got 0"),
    (["listen", "--port", "65536"], "argument --port: must be an integer in [0, 65535], got 65536"),
    (["listen", "--screen-reference-below", "7"], "argument --screen-reference-below: must be a number in [1, 5], "
                                                  "got 7.0"),
    (["demo", "--valid-count", "0"], "argument --valid-count: must be an integer >= 1 (the clips the demo vocodes), "
                                     "got 0"),
    (["serve", "--idle-timeout", "0"], "argument --idle-timeout: must be a number > 0 or inf, got 0.0"),
    (["serve", "--max-batch-delay-ms", "inf"], "argument --max-batch-delay-ms: must be a number >= 0 (the "
                                               "milliseconds a mel may wait for others to join its pass), got inf"),
    (["bench", "--stream-memory-minutes", "-1"], "argument --stream-memory-minutes: must be a number >= 0 (0: skip), "
                                                 "got -1.0"),
    (["train", "--valid-fraction", "1"], "argument --valid-fraction: must be a number in (0, 1), got 1.0"),
    (["demo", "--budget-minutes", "nan"], "argument --budget-minutes: must be a number > 0, got nan"),
])
def test_the_words_of_each_kind_of_rule(capsys, argv, words):
    """The rule's words as a user reads them: an upper end, open ends, inf, a reason after the rule."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"hifigan {argv[0]}: error: {words} ('hifigan {argv[0]} --help' lists the " \
                                      "options)\n"


@pytest.mark.parametrize(("argv", "value"), [
    (["serve", "-c", "g.pt", "--port", "0"], 0), (["serve", "-c", "g.pt", "--idle-timeout", "inf"], float("inf")),
    (["train", "--max-minutes", "inf"], float("inf")), (["listen", "--screen-reference-below", "5"], 5.0),
])
def test_the_ends_of_a_range_are_taken(argv, value):
    args = build_parser().parse_args(argv)
    assert getattr(args, argv[-2][2:].replace("-", "_")) == value


@pytest.mark.parametrize(("check", "words"), [
    (lambda: ServeOptions(max_batch=0), "--max-batch must be an integer >= 1, got 0"),
    (lambda: ServeOptions(idle_timeout_s=0.0), "--idle-timeout must be a number > 0 or inf, got 0.0"),
    (lambda: check_counts({"keep": 0}, cli=False), "keep must be an integer >= 1, got 0"),
    (lambda: check_counts({"max_minutes": -1.0}, cli=True), "--max-minutes must be a number > 0 or inf, got -1.0"),
    (lambda: bind("127.0.0.1", 65536), "--port must be an integer in [0, 65535], got 65536"),
    (lambda: check_screen(7), "--screen-reference-below must be a number in [1, 5], got 7"),
])
def test_the_python_api_says_the_same_rule_in_the_same_words(check, words):
    """ServeOptions, a training job's counts, the servers' port and the listening screen, checked in Python."""
    with pytest.raises(HifiganError) as caught:
        check()
    assert str(caught.value) == words
