"""The parser's own errors and usage lines tell the truth: an unknown option is named (not a missing argument after
it), a required -o/--out or --system is shown required, train's help states the default loss weights, and a reader
closing the pipe early is no error."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hifigan.cli import build_parser, main

SRC = Path(__file__).resolve().parents[2] / "src"


def usage(command: str) -> str:
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    return " ".join(sub.format_usage().split())


@pytest.mark.parametrize(("argv", "prog"), [
    (["mel", "--bogus"], "hifigan mel"), (["vocode", "--bogus", "x.wav"], "hifigan vocode"),
    (["evaluate", "--bogus"], "hifigan evaluate"), (["--bogus", "mel"], "hifigan"),
])
def test_an_unknown_option_is_named_before_a_missing_argument(capsys, argv, prog):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith(f"{prog}: error: unrecognized arguments: --bogus (")


@pytest.mark.parametrize(("command", "shown"), [
    ("mel", "--out OUT"), ("vocode", "--out DIR"), ("export", "--out FILE"), ("export-official", "--out DIR"),
    ("evaluate", "--system NAME=DIR"),
])
def test_a_required_option_is_shown_required(capsys, command, shown):
    line = usage(command)
    assert f" {shown} " in f"{line} " and f"[{shown}]" not in line
    with pytest.raises(SystemExit):  # --help, printed while parsing, shows it required too
        main([command, "--help"])
    assert f"[{shown}]" not in " ".join(capsys.readouterr().out.split())


def test_train_help_states_the_default_loss_weights_as_the_manual_does(capsys):
    """`hifigan train --help` says the generator's loss with the default weights (the paper's lambda_fm 2 and
    lambda_mel 45: config.DEFAULT_LOSS_WEIGHTS), in the words of docs/training.md."""
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    said = "(adversarial + 2 x feature matching + 45 x mel L1)"
    assert said in " ".join(capsys.readouterr().out.split())
    assert said in " ".join((SRC.parent / "docs" / "training.md").read_text().split())


def test_required_out_is_still_checked_and_its_old_spelling_still_counts(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["mel", str(tmp_path / "x.wav")])
    assert "the following arguments are required: -o/--out" in capsys.readouterr().err
    assert main(["mel", str(tmp_path / "x.wav"), str(tmp_path / "old.npy")]) == 2  # the input is missing, not -o
    assert re.search(r"error: .*x\.wav: no such file", capsys.readouterr().err)


def test_a_reader_closing_the_pipe_ends_the_command_quietly():
    """`hifigan configs --json | head -c 1`: the reader is gone before the command writes; exit 141 (as a tool ended
    by SIGPIPE), nothing on stderr."""
    read, write = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "hifigan", "configs", "--json"], stdout=write,
                               stderr=subprocess.PIPE, env=env)
    os.close(write)
    os.close(read)
    stderr = process.communicate(timeout=60)[1]
    assert (process.returncode, stderr) == (141, b"")


def test_a_file_named_like_an_option_is_named_with_how_to_give_it(capsys, tmp_path, monkeypatch):
    """A corpus file `-take1.wav` given as it is reads as an unknown option: the line says how to pass it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-take1.wav").write_bytes(b"")
    with pytest.raises(SystemExit) as exited:
        main(["mel", "-o", "a.npy", "-take1.wav", "--bogus"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "hifigan mel: error: unrecognized arguments: -take1.wav --bogus (-take1.wav is a file: give it as "
        "./-take1.wav, or after --) ('hifigan mel --help' lists the options)\n")
    assert list(tmp_path.iterdir()) == [tmp_path / "-take1.wav"]


def test_inputs_split_by_an_option_are_said_to_go_together(capsys, tmp_path, monkeypatch):
    """`mel a.wav -o x b.wav`: argparse takes the inputs from one run of arguments, so b.wav is unrecognised; the
    line says how to give them. An unknown word that is no file gets no such hint."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.wav", "b.wav"):
        (tmp_path / name).write_bytes(b"")
    for argv, hint in ((["mel", "a.wav", "-o", "mels", "b.wav"], " (inputs go together, all before the options or "
                                                                  "all after them)"),
                       (["mel", "a.wav", "-o", "mels", "nothere.wav"], ""), (["configs", "b.wav"], "")):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        word = argv[-1]
        assert exited.value.code == 2
        assert capsys.readouterr().err == (f"hifigan {argv[0]}: error: unrecognized arguments: {word}{hint} "
                                           f"('hifigan {argv[0]} --help' lists the options)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav"]


def examples() -> list[tuple[str, str]]:
    """(command, line) of each line of every command's --help examples."""
    commands = build_parser()._subparsers._group_actions[0].choices
    return [(name, line.removeprefix("example:").strip()) for name, sub in commands.items()
            for line in (sub.epilog or "").splitlines() if line.strip() and line.strip() != "examples:"]


def test_every_help_example_pastes_into_a_shell_and_parses(capsys):
    """Each example line is a command a shell runs as written, what it says of it after a #, or such a comment
    alone: a hifigan command's words parse as its options (a note in brackets was a stray argument and a shell's
    syntax error)."""
    from hifigan.cli.common import resolve_out

    parser = build_parser()
    for command, line in examples():
        words = shlex.split(line, comments=True)
        if not words:
            assert line.startswith("#"), line
            continue
        assert words[0] in ("hifigan", "torchrun", "curl"), line
        if "hifigan" in words:
            argv = words[words.index("hifigan") + 1:]
            argv = argv[:argv.index(">")] if ">" in argv else argv  # `hifigan configs --show NAME > FILE`
            assert argv[0] == command, line
            args = parser.parse_args(argv)
            resolve_out(args, args.subparser)
            assert not args.deprecations, line
    assert capsys.readouterr().err == ""
