"""What several `hifigan` subcommands share: option groups, the output grammar (-o/--out and the old spellings it
replaces, the success line, --quiet, the progress bar) and the output-path check. The model a command runs:
cli/model_source.py; an output that is one of the inputs: cli/overwrites.py."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hifigan.cli.lists import NameList
from hifigan.config.values import integer_problem, number_problem
from hifigan.errors import HifiganError
from hifigan.files.output_folders import prepare_output_dir
from hifigan.inference.choices import BACKENDS, HALF_BACKENDS, PRECISION_DTYPES, SHAPE_BUCKETS
from hifigan.messages.plural import count
from hifigan.messages.progress_bars import on_terminal
from hifigan.runtime.sockets import PORTS
from hifigan.serve.limits import DEFAULT_HOST, DEFAULT_PORT


class ExamplesHelpFormatter(argparse.HelpFormatter):
    """argparse's help, but an epilog of examples keeps its lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        """A list option shows its one comma-separated argument (NAMES), not its old space-separated form."""
        if isinstance(action, NameList):
            shown = self._metavar_formatter(action, default_metavar)(1)[0]
            return f"[{shown}]" if action.nargs == "*" else shown
        return super()._format_args(action, default_metavar)


def add_command(
    sub: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int], *, help: str,
    description: str, epilog: str,
) -> argparse.ArgumentParser:
    """One subcommand's parser: its texts, --debug (main() reads it to show the traceback of an error) and the
    function that runs it. An epilog of examples keeps its lines."""
    p = sub.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=ExamplesHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no success line, no progress bar, and no status lines from train and demo (errors and "
                   "warnings still show)")
    p.set_defaults(func=run, deprecations=[], subparser=p)
    return p


# ---------------------------------------------------------------- the output grammar: -o/--out everywhere
def add_out(p: argparse.ArgumentParser | argparse._ArgumentGroup, help: str, *, required: bool = True,
            old_option: str | None = None, old_positional: bool = False, metavar: str = "OUT",
            kind: Callable[[str], object] = Path, old_last_input: tuple[str, str] | None = None) -> None:
    """-o/--out, where every command writes: a folder of a file per input, else the one file. `old_option`
    (--output-dir) and `old_positional` (a trailing OUTPUT argument) are the spellings it replaces, kept for one
    release with a note.
    `old_last_input` (dest, suffix): the trailing OUTPUT where the inputs take many arguments (nargs="+", `dest`):
    the last of them when it ends in `suffix`, which no input does, or the second of two without -o/--out (the old
    `AUDIO OUTPUT`). `kind` str keeps a trailing separator (evaluate: OUT/ is a folder, OUT a prefix)."""
    out = p.add_argument("--out", "-o", type=kind, default=None, metavar=metavar, help=help)
    out.required = required  # the usage line shows it so; resolve_out checks it, once an old spelling has counted
    out.checked_after_parsing = True  # type: ignore[attr-defined]  # see cli.lenient
    if old_option is not None:
        p.add_argument(old_option, dest="old_out_option", type=kind, default=None, help=argparse.SUPPRESS)
        p.set_defaults(old_out_flag=old_option)
    if old_positional:
        p.add_argument("old_out", nargs="?", type=Path, default=None, help=argparse.SUPPRESS)
    if old_last_input is not None:
        p.set_defaults(old_last_input=old_last_input)
    p.set_defaults(out_required=required)


def resolve_out(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """After parsing: an old spelling (--output-dir, --json, a trailing OUTPUT) becomes `out` with a note, and given
    beside -o/--out is a usage error; a required -o/--out missing is argparse's usage error too."""
    flagged = getattr(args, "old_out_option", None)
    if flagged is not None:
        if args.out is not None:
            parser.error(f"give the output once: -o/--out {args.out} or (deprecated) {args.old_out_flag} {flagged}, "
                         "not both")
        args.out = flagged
        args.deprecations = [*args.deprecations, f"{args.old_out_flag} is deprecated, use -o/--out"]
    if (last_input := getattr(args, "old_last_input", None)) is not None:
        dest, suffix = last_input
        given = getattr(args, dest)
        if len(given) > 1 and (given[-1].suffix.lower() == suffix or (len(given) == 2 and args.out is None)):
            args.old_out = given.pop()
    old = getattr(args, "old_out", None)
    if old is not None:
        if args.out is not None:
            parser.error(f"give the output once: -o/--out {args.out} or (deprecated) {old}, not both")
        args.out = old
        args.deprecations = [*args.deprecations, f"the output as a last argument ({old}) is deprecated, "
                             f"use -o/--out {old}"]
    if getattr(args, "out_required", False) and args.out is None:
        parser.error("the following arguments are required: -o/--out")
    if getattr(args, "out", None) is not None and os.fspath(args.out) == "-":  # stdout's usual spelling, not a folder
        parser.error("argument -o/--out: '-' (standard output) is not an output here: the command writes files, "
                     "so give a file or folder name (./- for one named -)")
    if getattr(args, "systems_required", False) and not args.system:
        parser.error("the following arguments are required: --system NAME=DIR")


def progress(items: Iterable, what: str, total: int, enabled: bool = True, unit: str = "file") -> Iterator:
    """A tqdm bar over `items` on stderr, shown for several items on a terminal only (see on_terminal)."""
    from tqdm import tqdm

    yield from tqdm(items, desc=what, unit=unit, total=total, file=sys.stderr,
                    disable=not (enabled and total > 1 and on_terminal()))


def say_wrote(args: argparse.Namespace, *paths: str | os.PathLike) -> None:
    """The success line of a command that wrote files: `wrote PATH[, PATH...]` (silenced by --quiet)."""
    if not args.quiet:
        print("wrote " + ", ".join(os.fspath(p) for p in paths))


def say_wrote_files(args: argparse.Namespace, files: int, folder: str | os.PathLike) -> None:
    """The success line of a command that wrote many files into a folder: `wrote N files to OUT` (--quiet: none)."""
    if not args.quiet:
        print(f"wrote {count(files, 'file')} to {os.fspath(folder)}")


def say_vocoded(args: argparse.Namespace, files: int, audio_seconds: float, folder: Path, elapsed: float,
                also: tuple[Path, ...] = ()) -> None:
    """The success line of vocoding: how many files, how much audio, where, how long and how fast (`elapsed`
    seconds of vocoding), and what else was written (`also`: vocode --evaluate's report)."""
    if args.quiet:
        return
    speed = audio_seconds / elapsed if elapsed > 0 else float("inf")
    more = f", and {', '.join(map(str, also))}" if also else ""
    print(f"wrote {count(files, 'file')} ({audio_seconds:.1f} s of audio) to {folder} in "
          f"{elapsed:.1f} s, {speed:.1f} x real time{more}")


def add_audio_options(p: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "audio") -> None:
    """--resample and --mix-to-mono: how audio whose format differs from the config's is read instead of failing."""
    p.add_argument("--resample", action="store_true",
                   help=f"resample {what} at another rate to the config's rate (soxr HQ) instead of failing")
    p.add_argument("--mix-to-mono", action="store_true",
                   help=f"average the channels of multi-channel {what} instead of failing")


# ---------------------------------------------------------------- counts and ranges: config.values' rule and words
@dataclass(frozen=True)
class Count:
    """The `type=` of a command-line count: an int from `minimum` to `maximum` (None: no upper end), else a usage
    error at parse time in config.values' words, `argument --threads: must be an integer >= 1, got 0` (`why` after
    the rule); a word that is no int is argparse's `invalid int value: 'two'`."""

    minimum: int
    maximum: int | None = None
    why: str = ""
    __name__ = "int"  # argparse names the type so in `invalid int value`

    def __call__(self, text: str) -> int:
        value = int(text)
        if (problem := integer_problem(value, self.minimum, self.maximum, self.why)) is not None:
            raise argparse.ArgumentTypeError(problem)
        return value


@dataclass(frozen=True)
class Amount:
    """The `type=` of a command-line number: a float from `low` to `high` (None: no upper end), each end closed
    unless said open (`inf`: infinity taken, as no bound), else a usage error in config.values' words (`argument
    --budget-minutes: must be a number > 0, got 0.0`)."""

    low: float
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    why: str = ""
    inf: bool = False
    __name__ = "float"

    def __call__(self, text: str) -> float:
        value = float(text)
        if (problem := number_problem(value, self.low, self.high, low_open=self.low_open, high_open=self.high_open,
                                      why=self.why, inf=self.inf)) is not None:
            raise argparse.ArgumentTypeError(problem)
        return value


PORT = Count(*PORTS)  # --port of listen and serve (add_address)


def add_address(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--host and --port of a command that serves (listen, serve): one wording and one default for both."""
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this machine "
                   "only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=PORT, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free "
                   "one, printed)")


def add_inference_options(p: argparse.ArgumentParser, served: bool = False) -> None:
    """--backend, --precision and --shape-buckets (`served`: with `hifigan serve`'s rule for the last)."""
    p.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="inference engine; all give the same audio (default auto = tiled-split on CPU: fastest "
                   "measured; invariant: bit-identical float32 audio however the input is batched, streamed or "
                   "chunked, slower: its measured times are in docs/inference.md; onnx and onnx-split need the 'onnx' "
                   "extra)")
    p.add_argument("--precision", default="fp32", choices=tuple(PRECISION_DTYPES),
                   help="fp16/bf16: half-precision weights and activations (default fp32; GPU, or bf16 on a CPU with "
                   f"AVX512-BF16/AMX; backends {', '.join(HALF_BACKENDS)})")
    p.add_argument("--shape-buckets", default="auto", choices=tuple(SHAPE_BUCKETS),
                   help="run mels of many lengths in forward passes of a few padded shapes, each output exact (the "
                   "padding never reaches its receptive field), so that a new length does not cost a convolution "
                   "set-up; default " + ("auto: on (on the CPU every pass bucketed, so that the memory oneDNN "
                   "keeps for its shapes stays bounded over the server's life; off: a new length costs a new set-up "
                   "and memory)"
                   if served else "auto: on for CUDA, off on the CPU, where the padding costs more than it saves"))


def add_device(p: argparse.ArgumentParser | argparse._ArgumentGroup, note: str = "") -> None:
    """--device of every command that runs a model; `note` (in parentheses) says what it changes there besides."""
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu" + (f"; {note})" if note else ")"))


def add_threads(p: argparse.ArgumentParser | argparse._ArgumentGroup, default: int | None = None, note: str = ""
                ) -> None:
    """--threads N of every command that computes with torch in this process: its intra-op threads for the whole
    command (main applies it: torch_threads); `note` (in parentheses) says what else it sets there."""
    said = f"default {default}" if default is not None else "default: torch's, one per core, or a CPU quota's if fewer"
    p.add_argument("--threads", type=Count(1), default=default, metavar="N",
                   help=f"torch's intra-op threads the command computes with ({said}"
                   + (f"; {note})" if note else ")"))


@contextmanager
def torch_threads(args: argparse.Namespace) -> Iterator[None]:
    """The command's --threads (add_threads) while it runs, the caller's count back after; not given, torch's or a
    CPU quota's where fewer (quota_threads); a command without the option is left as it is."""
    if not hasattr(args, "threads"):
        yield
        return
    from hifigan.runtime.threads import intra_op_threads, quota_threads

    with intra_op_threads(args.threads if args.threads is not None else quota_threads()):
        yield


def add_no_progress(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def shows_progress(args: argparse.Namespace) -> bool:
    """A command's progress bars: on a terminal (on_terminal) unless --no-progress or --quiet."""
    return not args.no_progress and not args.quiet and on_terminal()


def check_output_file(path: Path) -> None:
    """An output file path must not be a folder, and its folder must be creatable and writable."""
    if path.is_dir():
        raise HifiganError(path, "is a directory, expected an output file path")
    prepare_output_dir(path.parent if str(path.parent) else Path("."))


def require_suffix(path: str | os.PathLike, suffix: str, command: str, what: str) -> None:
    """An output named what it is (docs/commands.md rule 4): `path` must end in `suffix` (any case)."""
    if Path(path).suffix.lower() != suffix:
        raise HifiganError(path, f"the output of {command} is {what}: give a name ending in {suffix}")


