"""What several `hifigan` subcommands share: option groups, the generator source, the output-path check."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.atomic import prepare_output_dir
from hifigan.errors import HifiganError

if TYPE_CHECKING:
    from torch import nn

    from hifigan.config import HifiganConfig


class ExamplesHelpFormatter(argparse.HelpFormatter):
    """argparse's help, but an epilog of examples keeps its lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def add_command(
    sub: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int], *, help: str,
    description: str, epilog: str,
) -> argparse.ArgumentParser:
    """One subcommand's parser: its texts, --debug (main() reads it to show the traceback of an error) and the
    function that runs it. An epilog of examples keeps its lines."""
    p = sub.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=ExamplesHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    p.set_defaults(func=run)
    return p


def add_audio_options(p: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "audio") -> None:
    """--resample and --mix-to-mono: how audio whose format differs from the config's is read instead of failing."""
    p.add_argument("--resample", action="store_true",
                   help=f"resample {what} at another rate to the config's rate (soxr HQ) instead of failing")
    p.add_argument("--mix-to-mono", action="store_true",
                   help=f"average the channels of multi-channel {what} instead of failing")


def add_device(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def add_no_progress(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_generator_source(p: argparse.ArgumentParser) -> None:
    """--checkpoint FILE or --pretrained NAME (one of them), and --config for an official g_* file."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", "-c", type=Path, help="our checkpoint (config inside) or an official g_* file")
    source.add_argument("--pretrained", metavar="NAME",
                        help="a registered pretrained generator: lj-v1 or universal-v1 (see hifigan pretrained)")
    p.add_argument("--config", default=None,
                   help="config for an official g_* checkpoint: a preset (v1, v2, v3, ...) or an official config json")


def generator_from_args(args: argparse.Namespace) -> tuple[nn.Module, HifiganConfig]:
    """Generator and config from --checkpoint (with --config) or --pretrained."""
    if args.pretrained is not None:
        from hifigan.pretrained import load_pretrained

        return load_pretrained(args.pretrained, args.config)
    from hifigan.checkpoints.contents import load_generator

    return load_generator(args.checkpoint, args.config)


def check_output_file(path: Path) -> None:
    """An output file path must not be a folder, and its folder must be creatable and writable."""
    if path.is_dir():
        raise HifiganError(path, "is a directory, expected an output file path")
    prepare_output_dir(path.parent if str(path.parent) else Path("."))
