"""`hifigan demo` beside `hifigan train`: what means one thing is one definition (--seed, common.add_seed), and the
two time options are two ideas with two names: demo's --budget-minutes is the whole demo's time, which its training
is planned to fill; train's --max-minutes is a stop rule beside --max-steps and --epochs."""

from __future__ import annotations

from tests.cli.test_cli_grammar import parse, subparsers


def _option(command: str, option: str):
    return next((a for a in subparsers()[command]._actions if option in a.option_strings), None)


def test_demo_takes_trains_seed():
    demo, train = _option("demo", "--seed"), _option("train", "--seed")
    assert demo is not None, "demo has no --seed"
    assert [(a.option_strings, a.type, a.metavar, a.default, a.help) for a in (demo, train)] == [
        (["--seed"], train.type, "N", None, "seed of the weights and the data order (default: the config's)")] * 2
    assert parse("demo", "--corpus", "c", "-o", "d", "--seed", "5").seed == 5


def test_a_budget_and_a_stop_rule_are_named_apart():
    args = parse("demo", "--corpus", "c", "-o", "d", "--budget-minutes", "2")
    assert (args.budget_minutes, args.deprecations) == (2.0, [])
    assert parse("demo", "--corpus", "c", "-o", "d").budget_minutes == 9.0
    old = parse("demo", "--corpus", "c", "-o", "d", "--minutes", "2")
    assert (old.budget_minutes, old.deprecations) == (2.0, ["--minutes is deprecated, use --budget-minutes"])
    assert _option("demo", "--max-minutes") is None and _option("train", "--budget-minutes") is None
    assert "stop rule" in _option("train", "--max-minutes").help
    assert "budget" in _option("demo", "--budget-minutes").help
