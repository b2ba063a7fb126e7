"""Issue #25: one grammar for every command: -o/--out where it writes (old spellings with one note), --system NAME=DIR
where it compares systems, one success line (silenced by --quiet) (the progress bar: test_cli_progress.py)."""

from __future__ import annotations

import argparse
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from hifigan.cli import build_parser, main
from hifigan.cli.common import say_vocoded
from tests.support.cli_runs import BINS, HOP, SR, run, run_module, tone, wav

WRITERS = {  # every command that writes files, with the other arguments it needs to parse
    "mel": ["in.wav"], "vocode": ["-c", "g.pt", "in.wav"], "export": ["-c", "g.pt"], "train": ["--corpus", "c"],
    "evaluate": ["--reference", "r", "--system", "g"], "demo": ["--corpus", "c"], "listen": [],
    "export-official": ["-c", "g.pt"], "bench": [],
}
OLD_SPELLINGS = {  # the spellings -o/--out replaces, each kept one release
    "vocode": ["-c", "g.pt", "in.wav", "--output-dir", "X"], "mel": ["in.wav", "X"], "export": ["-c", "g.pt", "X"],
    "bench": ["--json", "X"],
}


# one meaning, one definition, in every command that takes it (OWN_DEFAULT: a command may state its own default)
SHARED = ("--device", "--host", "--port", "--no-progress", "--quiet", "--debug", "--reference", "--corpus",
          "--threads", "--subset", "--segment-size")
OWN_DEFAULT = ("--threads",)  # bench times at 2 threads, the figures docs/inference.md gives


def subparsers() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, by name."""
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def parse(*argv: str):
    from hifigan.cli.common import resolve_out

    args = build_parser().parse_args(list(argv))
    resolve_out(args, args.subparser)
    return args


@pytest.mark.parametrize("command", list(WRITERS))
def test_every_command_that_writes_takes_o_and_out(command):
    for option in ("-o", "--out"):
        args = parse(command, *WRITERS[command], option, "X")
        assert Path(args.out) == Path("X") and args.deprecations == [], command  # evaluate keeps a str: OUT/


def test_shared_options_are_one_definition_in_every_command():
    """An option that means one thing wherever it appears (SHARED) has one spelling, default, type, metavar and help
    in every command that takes it; a command may add a note in the help's last parentheses (bench's --device). A
    hidden old spelling (listen's --threads, now --server-threads) is not a definition."""
    seen: dict[str, tuple[str, tuple]] = {}
    for name, parser in subparsers().items():
        for action in parser._actions:
            option = next((o for o in action.option_strings if o in SHARED), None)
            if option is None or action.help == argparse.SUPPRESS:
                continue
            help_ = re.sub(r"; [^;()]*\)$", ")", action.help)  # a command's note, `(default cpu; ...)`
            default = action.default
            if option in OWN_DEFAULT:
                help_, default = re.sub(r"\(default[^;()]*", "(default ...", help_), "..."
            definition = (tuple(sorted(action.option_strings)), default, action.type, action.metavar, help_)
            first = seen.setdefault(option, (name, definition))
            assert definition == first[1], f"{option}: {name} {definition} != {first[0]} {first[1]}"
    assert sorted(seen) == sorted(SHARED)


def test_checkpoint_is_spelled_c_ckpt_in_every_command():
    """Every command that reads a checkpoint takes it as -c/--checkpoint CKPT, the spelling of docs/commands.md and of
    train's --init-from CKPT, and its --help shows that (argparse alone would show --checkpoint CHECKPOINT)."""
    takers = {name: parser for name, parser in subparsers().items()
              if any("--checkpoint" in a.option_strings for a in parser._actions)}
    assert sorted(takers) == ["check-mel", "evaluate", "export", "export-official", "mel", "serve", "vocode"]
    for name, parser in takers.items():
        action = next(a for a in parser._actions if "--checkpoint" in a.option_strings)
        assert (sorted(action.option_strings), action.metavar) == (["--checkpoint", "-c"], "CKPT"), name
        assert "-c CKPT" in parser.format_usage().replace("--checkpoint CKPT", "-c CKPT"), name
        assert "--checkpoint CKPT, -c CKPT" in parser.format_help(), name


def test_every_value_is_named_as_a_user_reads_it():
    """Every option's value shows a word of what it takes (N, SAMPLES, DIR, FILE, ...: docs/commands.md's spelling),
    never argparse's upper-cased dest (train --batch-size BATCH_SIZE beside vocode --batch N); a path, of any name,
    shows what kind (--corpus DIR, not CORPUS)."""
    for name, parser in subparsers().items():
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0 or action.help == argparse.SUPPRESS or action.choices:
                continue
            shown = parser._get_formatter()._format_args(action, action.dest.upper())
            assert "_" not in shown or action.metavar is not None, f"{name} {action.option_strings[0]} {shown}"
            assert action.type is not Path or action.metavar is not None, f"{name} {action.option_strings[0]} {shown}"


def test_every_default_is_said_as_default_value():
    """An option with a default says it in its --help as `default VALUE` (--device's `default cpu`), where vocode
    --batch, --backend, --precision, --shape-buckets and bench --stream-chunk-frames said none, or said it otherwise
    (`the default`, `0 = skip`)."""
    for name, parser in subparsers().items():
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS or action.default is None:
                continue
            if isinstance(action.default, bool) or action.default == argparse.SUPPRESS:  # flags, --help, --version
                continue
            value = f"{action.default:g}" if isinstance(action.default, float) else str(action.default)
            assert f"default {value}" in action.help, f"{name} {action.option_strings[0]}: {action.help}"


def test_config_says_what_it_takes_in_one_wording():
    """--config takes the same things in every command (config.load_config: a preset, an official config json, our
    JSON or YAML), and every --help says so in one wording, where vocode's said 'a preset (v1, v2, v3, ...) or an
    official config json' and bench's 'a preset (hifigan configs) or a config file'."""
    from hifigan.cli.model_source import CONFIG_FORMS

    takers = {name: next(a for a in parser._actions if "--config" in a.option_strings)
              for name, parser in subparsers().items() if "--config" in parser._option_string_actions}
    assert sorted(takers) == ["bench", "check-mel", "demo", "evaluate", "export", "mel", "serve", "train", "vocode"]
    assert [name for name, action in takers.items() if CONFIG_FORMS not in action.help] == []
    assert {action.metavar for action in takers.values()} == {None}  # shown as --config CONFIG


@pytest.mark.parametrize("command", list(OLD_SPELLINGS))
def test_old_output_spellings_still_work_with_a_note(command):
    args = parse(command, *OLD_SPELLINGS[command])
    assert Path(args.out) == Path("X")  # bench keeps a str: a trailing separator is refused
    assert len(args.deprecations) == 1 and "use -o/--out" in args.deprecations[0]


def test_evaluate_generated_is_the_old_spelling_of_system():
    args = parse("evaluate", "--reference", "r", "--generated", "a=x", "--system", "b=y")
    assert args.system == ["a=x", "b=y"] and args.deprecations == ["--generated is deprecated, use --system"]
    listen = parse("listen", "--reference", "r", "--system", "a=x", "-o", "s")
    assert listen.system == ["a=x"] and listen.deprecations == []


def test_old_system_spelling_after_system_keeps_both():
    """--generated after --system appends to the systems given before it, in the order given."""
    args = parse("evaluate", "--reference", "r", "--system", "b=y", "--generated", "a=x")
    assert args.system == ["b=y", "a=x"] and args.deprecations == ["--generated is deprecated, use --system"]


def test_output_given_twice_or_missing_is_a_usage_error(capsys):
    for argv in (["mel", "in.wav", "x.npy", "-o", "y.npy"], ["mel", "in.wav"], ["vocode", "-c", "g.pt", "a.wav"],
                 ["evaluate", "--reference", "r"], ["vocode", "-c", "g.pt", "--output-dir", "x", "-o", "y", "a.wav"],
                 ["vocode", "-c", "g.pt", "-o", "y", "--output-dir", "x", "a.wav"],
                 ["bench", "--json", "x", "-o", "y"]):
        with pytest.raises(SystemExit) as exit_:
            parse(*argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "error:" in err and ("give the output once" in err or len(argv) < 6), err


def test_output_given_twice_names_both_spellings(capsys):
    """The usage error of an output given twice names each spelling with its own value, so the user sees which
    one to drop."""
    for argv, words in ((["vocode", "-c", "g.pt", "-o", "y", "--output-dir", "x", "a.wav"],
                         "give the output once: -o/--out y or (deprecated) --output-dir x, not both"),
                        (["mel", "in.wav", "x.npy", "-o", "y.npy"],
                         "give the output once: -o/--out y.npy or (deprecated) x.npy, not both")):
        with pytest.raises(SystemExit):
            parse(*argv)
        assert words in capsys.readouterr().err


def test_generator_source_is_required_and_exactly_one(capsys):
    """vocode, export and serve need a generator: --checkpoint or --pretrained, one of them, else a usage error."""
    for argv, words in ((["export", "-o", "g.pt"], "one of the arguments --checkpoint/-c --pretrained is required"),
                        (["export", "-o", "g.pt", "-c", "a.pt", "--pretrained", "lj-v1"], "not allowed with")):
        with pytest.raises(SystemExit) as exit_:
            parse(*argv)
        assert exit_.value.code == 2 and words in capsys.readouterr().err


def test_old_positional_output_is_used_with_its_note():
    """A trailing OUTPUT (the old spelling) becomes the output, and its note shows the -o/--out to use instead."""
    args = parse("mel", "in.wav", "x.npy")
    assert args.out == Path("x.npy")
    assert args.deprecations == ["the output as a last argument (x.npy) is deprecated, use -o/--out x.npy"]


def test_q_is_short_for_quiet_and_help_keeps_the_examples_as_written():
    """-q spells --quiet on every command; an epilog of examples keeps its lines (argparse would refill them into
    one paragraph)."""
    assert parse("mel", "in.wav", "-o", "x.npy", "-q").quiet and not parse("mel", "in.wav", "-o", "x.npy").quiet
    subparser = parse("mel", "in.wav", "-o", "x.npy").subparser
    assert ("examples:\n  hifigan mel data/ljspeech-mini/LJ001-0001.wav -o LJ001-0001.npy --config v1\n  hifigan mel "
            in subparser.format_help())


@pytest.mark.parametrize(("argv", "prog", "message"), [
    (["vocodee"], "hifigan", "argument COMMAND: invalid choice: 'vocodee', did you mean 'vocode'? (choose from "),
    (["vocode", "-c", "g.pt", "--precision", "fp8", "a.wav"], "hifigan vocode",
     "argument --precision: invalid choice: 'fp8' (choose from 'fp32', 'fp16', 'bf16')"),
    (["vocode", "-c", "g.pt"], "hifigan vocode", "the following arguments are required: INPUT"),
    (["vocode", "-c", "g.pt", "--zzz", "a.wav"], "hifigan vocode", "unrecognized arguments: --zzz"),
    (["serve", "-c", "g.pt", "--max-batch", "two"], "hifigan serve", "argument --max-batch: invalid int value: 'two'"),
    ([], "hifigan", "the following arguments are required: COMMAND"),
    (["train", "--corpus", "wavs"], "hifigan train",
     "the following arguments are required: -o/--out (or --resume DIR: that run's folder)"),
])
def test_usage_errors_are_one_line_naming_the_command(tmp_path, monkeypatch, capsys, argv, prog, message):
    """argparse's own errors keep the one-line rule: the command that was given, the problem, where help is; no
    usage block, exit 2, nothing written (-o points into the test's folder)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([*argv[:1], "-o", "out", *argv[1:]] if argv[:1] == ["vocode"] else argv)
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"{prog}: error: {message}")
    assert err.endswith(f"('{prog} --help' lists the options)\n")
    assert list(tmp_path.iterdir()) == []


def test_deprecation_is_one_stderr_line_and_the_command_runs(tmp_path, capsys, tiny_checkpoint, tiny_config_json):
    clip = wav(tmp_path / "a.wav", tone(SR // 2))
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "--output-dir", tmp_path / "v", clip)
    assert code == 0 and sorted(p.name for p in (tmp_path / "v").iterdir()) == ["a.wav"]
    assert err.splitlines() == ["hifigan vocode: note: --output-dir is deprecated, use -o/--out (the old spelling "
                                "goes in the next release)"]
    code, _, err = run(capsys, "mel", clip, tmp_path / "m.npy", "--config", tiny_config_json)
    assert code == 0 and np.load(tmp_path / "m.npy").shape == (BINS, SR // 2 // HOP)
    assert len(err.splitlines()) == 1 and "use -o/--out" in err


def test_mel_input_options_with_only_audio_inputs_are_one_warning(tmp_path, capsys, tiny_checkpoint, good_mel):
    """--mel-convention, --mel-stats, --mel-db-ref and --strict-mel describe .npy inputs: with only audio inputs
    (copy synthesis computes the model's own mel) they do nothing, and one warning names those given."""
    clip = wav(tmp_path / "a.wav", tone(SR // 2))
    proc = run_module("vocode", "-c", tiny_checkpoint, "-o", tmp_path / "v", "--mel-convention", "log10", clip)
    assert proc.returncode == 0 and (tmp_path / "v" / "a.wav").is_file(), proc.stderr
    assert proc.stderr.splitlines() == ["hifigan vocode: warning: --mel-convention applies to .npy inputs only, and "
                                        "every input is audio (copy synthesis computes the model's own mel): ignored"]
    every = ["--strict-mel", "--mel-convention", "db-ref", "--mel-stats", tmp_path / "s.npz", "--mel-db-ref", "1"]
    with pytest.warns(UserWarning) as caught:
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "w", *every, clip)
    assert code == 0 and (tmp_path / "w" / "a.wav").is_file(), err
    assert [str(w.message).split(" to .npy")[0] for w in caught] == [
        "--strict-mel, --mel-convention, --mel-stats, --mel-db-ref apply"]
    with warnings.catch_warnings():  # a .npy input among them: the options are used, no such warning
        warnings.filterwarnings("error", message=".*to .npy inputs only")  # (noise is no official mel: that one may)
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "x", "--mel-convention",
                           "official", clip, good_mel)
    assert code == 0 and sorted(p.name for p in (tmp_path / "x").iterdir()) == ["a.wav", "good.wav"], err


def test_success_lines(tmp_path, capsys, tiny_checkpoint, tiny_config_json):
    clips = [wav(tmp_path / f"c{i}.wav", tone(n)) for i, n in enumerate((SR // 2, SR))]
    code, out, _ = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "v", *clips)
    seconds = sum(n // HOP * HOP for n in (SR // 2, SR)) / SR  # copy synthesis keeps whole frames: 1.5 s
    match = re.fullmatch(rf"wrote 2 files \({seconds:.1f} s of audio\) to {re.escape(str(tmp_path / 'v'))} in "
                         r"(\d+\.\d) s, (\d+\.\d|inf) x real time\n", out)
    assert code == 0 and match, out
    code, out, _ = run(capsys, "mel", clips[0], "-o", tmp_path / "m.npy", "--config", tiny_config_json)
    assert (code, out) == (0, f"wrote {tmp_path / 'm.npy'}\n")
    code, out, _ = run(capsys, "mel", clips[0], "-o", tmp_path / "M.NPY", "--config", tiny_config_json)  # any case
    assert (code, out) == (0, f"wrote {tmp_path / 'M.NPY'}\n")
    code, out, _ = run(capsys, "export", "-c", tiny_checkpoint, "-o", tmp_path / "g.pt")
    assert (code, out) == (0, f"wrote {tmp_path / 'g.pt'}\n")
    code, out, _ = run(capsys, "evaluate", "--reference", tmp_path / "v", "--system", tmp_path / "v", "--metrics",
                       "snr", "--config", tiny_config_json, "-o", tmp_path / "rep")
    assert code == 0 and out.splitlines()[-1] == f"wrote {tmp_path / 'rep.json'}, {tmp_path / 'rep.png'}"
    say_vocoded(argparse.Namespace(quiet=False), 2, 3.0, Path("o"), 1.5)  # the figures: 3 s of audio in 1.5 s
    assert capsys.readouterr().out == "wrote 2 files (3.0 s of audio) to o in 1.5 s, 2.0 x real time\n"
    say_vocoded(argparse.Namespace(quiet=False), 1, 3.0, Path("o"), 1.5)
    say_vocoded(argparse.Namespace(quiet=False), 0, 0.0, Path("o"), 1.5)
    assert capsys.readouterr().out.splitlines() == ["wrote 1 file (3.0 s of audio) to o in 1.5 s, 2.0 x real time",
                                                    "wrote 0 files (0.0 s of audio) to o in 1.5 s, 0.0 x real time"]
    for argv in (["vocode", "-c", tiny_checkpoint, "-o", tmp_path / "q", *clips],
                 ["mel", clips[0], "-o", tmp_path / "q.npy", "--config", tiny_config_json]):
        code, out, err = run(capsys, *argv, "--quiet")
        assert (code, out, err) == (0, "", "")


def test_vocoded_line_at_zero_time_and_with_what_else_was_written(capsys):
    """Vocoding timed at 0 s is infinitely fast rather than a ZeroDivisionError; `also` (vocode --evaluate's report)
    ends the line."""
    say_vocoded(argparse.Namespace(quiet=False), 2, 3.0, Path("o"), 0.0, also=(Path("r.json"), Path("r.png")))
    assert capsys.readouterr().out == ("wrote 2 files (3.0 s of audio) to o in 0.0 s, inf x real time, "
                                       "and r.json, r.png\n")
