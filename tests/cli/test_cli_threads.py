"""`--threads N` is torch's intra-op threads wherever a command takes it (common.add_threads), held for the whole
command: every command that computes with torch in this process takes it; listen's web-server threads are
--server-threads (its --threads, the old spelling, kept one release with a note)."""

from __future__ import annotations

import argparse

import torch

from tests.cli.test_cli_grammar import parse, subparsers
from tests.support.cli_runs import SR, run, tone, wav
from tests.support.threads import threads


def test_threads_are_torchs_in_every_command_that_computes_with_it():
    """vocode, train, demo, bench and serve compute with torch in this process; mel and evaluate compute one file
    at one thread in each of their worker processes (the same bits either way), so they take none."""
    takers = {name: next(a for a in p._actions if "--threads" in a.option_strings)
              for name, p in subparsers().items() if "--threads" in p._option_string_actions}
    shown = {name for name, action in takers.items() if action.help != argparse.SUPPRESS}
    assert sorted(shown) == ["bench", "demo", "serve", "train", "vocode"]
    assert all(takers[name].help.startswith("torch's intra-op threads") for name in shown)
    assert takers["listen"].dest == "server_threads"  # the old spelling, hidden


def test_listen_server_threads_and_the_old_spelling_with_its_note():
    assert parse("listen", "-o", "s", "--server-threads", "3").server_threads == 3
    assert parse("listen", "-o", "s").server_threads == 8
    old = parse("listen", "-o", "s", "--threads", "3")
    assert old.server_threads == 3 and old.deprecations == ["--threads is deprecated, use --server-threads"]


def test_threads_hold_while_the_command_runs_and_the_callers_come_back(tmp_path, capsys, tiny_config_json):
    """train --threads 1 trains at one thread (its run line says so) where the caller runs two, and the caller's
    count is back once the command returns."""
    corpus = tmp_path / "wavs"
    corpus.mkdir()
    for i in range(3):
        wav(corpus / f"c{i}.wav", tone(SR // 2))
    args = ["--corpus", corpus, "--valid-count", 1, "--config", tiny_config_json, "--max-steps", 1, "--no-progress"]
    with threads(2):
        code, out, err = run(capsys, "train", *args, "-o", tmp_path / "run", "--threads", 1)
        assert code == 0, err
        assert torch.get_num_threads() == 2
    run_lines = [line for line in (out + err).splitlines() if line.startswith("run: ")]
    assert len(run_lines) == 1 and "on cpu, fp32, 1 thread;" in run_lines[0], run_lines
