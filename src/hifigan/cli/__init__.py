"""The `hifigan` command line: one subcommand per job, each documented in its --help.

One module per command group (serving.py is `hifigan serve`); docs/design.md's package layout says what each module
owns (a test keeps that list whole). Where to start reading: here, the parser and main(), which turns every expected
failure into one line and an exit code; then common.py (the options the commands share) and the command's module.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import os
import select
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hifigan.cli.bench import add_bench
from hifigan.cli.check_mel import add_check_mel
from hifigan.cli.common import resolve_out, torch_threads
from hifigan.cli.configs import add_configs
from hifigan.cli.demo import add_demo
from hifigan.cli.evaluate import add_evaluate
from hifigan.cli.export import add_export, add_export_official
from hifigan.cli.listen import add_listen
from hifigan.cli.mel import add_mel
from hifigan.cli.pretrained import add_pretrained
from hifigan.cli.serving import add_serve
from hifigan.cli.train import add_train
from hifigan.cli.vocode import add_vocode
from hifigan.errors import INTERRUPTED, READER_GONE, HifiganError, Note, ReportedElsewhere
from hifigan.files.output_folders import removing_new_folders
from hifigan.runtime.torchrun_start import (
    end_worker_process,
    launched_by_torchrun,
    linger_after_refusal,
    release_sigterm_at_start,
    says_refusal,
)
from hifigan.training.stop_signal import to_devnull

EPILOG = """\
One grammar: every command that writes takes -o/--out (a folder of one file per input for
vocode and mel of many, else the file), systems to compare are --system NAME=DIR, and on
success a command ends with one line saying what it wrote (--quiet: none). Every input is
checked before anything is written: a command exits 0 on success and 2 on bad input,
printing one line that names every bad file and its problem (add --debug for a traceback);
nothing is created, no folder either. Outputs are written to a temporary name and renamed
when complete. See docs/commands.md.
"""

SUBCOMMANDS = (add_mel, add_vocode, add_check_mel, add_evaluate, add_train, add_export_official, add_demo,
               add_export, add_bench, add_listen, add_serve, add_pretrained,
               add_configs)  # in the order --help lists them


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors (an unknown command or option, a bad choice, a missing argument) are
    one line on stderr, as every other bad input's, pointing at --help instead of printing the usage block.
    Subcommands' parsers are of this class too (add_subparsers makes its parsers of the parent's class)."""

    probing = False  # a first pass, requiring nothing, is under way (see parse_known_args)

    def __init__(self, *args, **kwargs) -> None:
        """No abbreviated long options (`--res` for --resample): one that picks an option today is a script's trap,
        ambiguous or another option's once an option is added. Set here, it holds for every command's parser."""
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        """Under torchrun every rank has the same command line: rank 0 alone says what is wrong with it, the others
        end (exit 2) at once and silently (no process group exists yet to wait in)."""
        if says_refusal():
            self._print_message(f"{self.prog}: error: {message} ('{self.prog} --help' lists the options)\n",
                                sys.stderr)
            linger_after_refusal()
        self.exit(2)

    def parse_known_args(self, args=None, namespace=None):
        """argparse's parse, but an unknown option or a stray argument is named before a missing one (argparse
        reports the missing one first, blaming a typo'd option on the argument after it), and -o/--out, required
        in the usage line, is checked by resolve_out instead (its deprecated spellings count too)."""
        args = sys.argv[1:] if args is None else list(args)
        outer, OneLineParser.probing = not OneLineParser.probing, True  # a command's parser probes within hifigan's
        try:
            with lenient(self, everything=True):
                probed = super().parse_known_args(args, copy.copy(namespace))
        finally:
            OneLineParser.probing = not outer
        if probed[1]:
            files = [a for a in probed[1] if a.startswith("-") and os.path.lexists(a)]  # a file '-take1.wav'
            hint = "".join(f" ({a} is a file: give it as ./{a}, or after --)" for a in files)
            hint += self.closest_options([a for a in probed[1] if a.startswith("-") and a not in files],
                                         len(probed[1]) > 1)
            if self.takes_inputs() and any(not a.startswith("-") and os.path.lexists(a) for a in probed[1]):
                hint += " (inputs go together, all before the options or all after them)"  # argparse's one run
            self.error(f"unrecognized arguments: {' '.join(probed[1])}{hint}")
        if not outer:
            return probed
        with lenient(self):
            return super().parse_known_args(args, namespace)

    def closest_options(self, unknown: list[str], several: bool) -> str:
        """` (did you mean --device?)` for each `unknown` option (`--devcie`, `--devcie=cpu`) close to one of this
        parser's shown options (difflib, on the names without their dashes, which would make `--bogus` close to
        `--out`), `(--devcie: did you mean --device?)` among `several` unknown arguments."""
        shown = {o.lstrip("-"): o for a in self._actions if a.help != argparse.SUPPRESS for o in a.option_strings}
        hints = ""
        for arg in unknown:
            if close := difflib.get_close_matches(arg.split("=", 1)[0].lstrip("-"), list(shown), n=1):
                spelling = shown[close[0]]
                hints += f" ({arg}: did you mean {spelling}?)" if several else f" (did you mean {spelling}?)"
        return hints

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """argparse's check of a value against the choices (an unknown command, `--precision fp61`), naming the
        closest choice when one is close (difflib)."""
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError:
            choices = [str(c) for c in action.choices or ()]
            close = difflib.get_close_matches(str(value), choices, n=1)
            if not close:
                raise
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}, did you mean {close[0]!r}? (choose "
                                                 f"from {', '.join(map(repr, choices))})") from None

    def takes_inputs(self) -> bool:
        """Whether a positional argument takes several values (a command's inputs): argparse fills it from one run
        of arguments, so `a.wav -c x b.wav` leaves b.wav unrecognised."""
        return any(not a.option_strings and a.nargs in ("+", "*") for a in self._actions)

    def format_usage(self) -> str:
        with strict(self):
            return super().format_usage()

    def format_help(self) -> str:
        with strict(self):
            return super().format_help()


@contextmanager
def lenient(parser: argparse.ArgumentParser, everything: bool = False) -> Iterator[None]:
    """While the block runs: `parser` requires none of its arguments (`everything`) or only those it checks itself
    after parsing (marked `checked_after_parsing`, see common.add_out)."""
    actions = [a for a in parser._actions if a.required and (everything or getattr(a, "checked_after_parsing", 0))]
    groups = [g for g in parser._mutually_exclusive_groups if g.required and everything]
    for item in (*actions, *groups):
        item.required = False
    parser.relaxed = [*actions, *groups]  # type: ignore[attr-defined]  # what --help shows required all the same
    try:
        yield
    finally:
        for item in (*actions, *groups):
            item.required = True
        parser.relaxed = []  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    from hifigan import __version__

    parser = OneLineParser(
        prog="hifigan",
        description="HiFi-GAN vocoder toolkit: compute mels, vocode, train, fine-tune, stream, export, evaluate. "
        "Loads the official jik876/hifi-gan checkpoints and configs as they are.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"hifigan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one subcommand; expected failures become one line on stderr and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)  # unknown arguments are named by the command given them (parse_known_args)
    resolve_out(args, args.subparser)
    if args.command != "train":  # train's start ends after its --device check (training.data_parallel)
        release_sigterm_at_start()
    for note in dict.fromkeys(args.deprecations):  # old spellings of -o/--out and --system: one more release
        print(f"hifigan {args.command}: note: {note} (the old spelling goes in the next release)", file=sys.stderr)

    def fail(message: str, code: int) -> int:
        if getattr(args, "debug", False):
            traceback.print_exc()
        one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
        print(f"hifigan {args.command}: {one_line}", file=sys.stderr)
        return code

    code = _run_with_warnings(args, fail)
    if args.command == "train" and launched_by_torchrun():  # no torch import here: a Ctrl-C may have cut torch's
        if code:
            linger_after_refusal()  # a --device refusal said during the start (hifigan.runtime.torchrun_start)
        end_worker_process(code)
    return code


def _run_with_warnings(args: argparse.Namespace, fail: Callable[[str, int], int]) -> int:
    """`_run`, its warnings printed as `hifigan COMMAND: warning: MESSAGE` (a Note: `note:`), one line each like its
    errors (with --debug: Python's form, which says where they came from)."""
    if getattr(args, "debug", False):
        return _run(args, fail)
    original = warnings.formatwarning

    def one_line(message: Warning | str, category: type[Warning] = UserWarning, *_: object, **__: object) -> str:
        text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
        kind = "note" if issubclass(category, Note) else "warning"
        return f"hifigan {args.command}: {kind}: {text}\n"

    warnings.formatwarning = one_line  # type: ignore[assignment]
    try:
        return _run(args, fail)
    finally:
        warnings.formatwarning = original


def _run(args: argparse.Namespace, fail: Callable[[str, int], int]) -> int:
    """The subcommand's exit code: 0 on success, else what `fail` makes of the error (one line)."""
    try:
        with removing_new_folders(), torch_threads(args):  # no folder of a failed command is left; --threads holds
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader gone (below) shows here when the output was short
        return code
    except ReportedElsewhere as e:  # rank 0 of the torchrun job prints it
        return e.exit_code
    except HifiganError as e:
        return fail(f"error: {e}", e.exit_code)
    except OSError as e:  # an environment problem no check caught (permissions, I/O error): still name the file
        if isinstance(e, BrokenPipeError) and stdout_reader_gone():
            return READER_GONE
        where = f"{e.filename}: " if e.filename else ""
        return fail(f"error: {where}{e.strerror or e}", 2)
    except KeyboardInterrupt:
        print(f"hifigan {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as e:  # a bug, not bad input: still one line, exit 1; --debug shows where
        return fail(f"internal error: {type(e).__name__}: {e} (please report it; --debug shows the traceback)", 1)


@contextmanager
def strict(parser: argparse.ArgumentParser) -> Iterator[None]:
    """While the block runs: what `lenient` relaxed is required again (--help, shown while parsing, says so)."""
    relaxed = getattr(parser, "relaxed", [])
    for item in relaxed:
        item.required = True
    try:
        yield
    finally:
        for item in relaxed:
            item.required = False


def stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (`hifigan configs | head -1`), as poll() says (POLLERR);
    if so, stdout goes to /dev/null, so that Python's last flush at exit is quiet too."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
    except (AttributeError, OSError, ValueError):  # no poll() (Windows), or stdout is no file
        return False
    if not any(events & select.POLLERR for _, events in poller.poll(0)):
        return False
    to_devnull(sys.stdout)
    return True


__all__ = ["build_parser", "main"]
