"""The model a command runs or judges against, as its options name it: --checkpoint FILE (with --config for an
official g_* file), --pretrained NAME, or --config alone; the options, and the generator or config they give."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.errors import CheckpointError

if TYPE_CHECKING:
    from torch import nn

    from hifigan.config import HifiganConfig


# what --config takes (config.load_config), in every command's --help
CONFIG_FORMS = "a preset (v1, pwg-24k, ...: hifigan configs), an official config json or our JSON or YAML"
CKPT = "CKPT"  # --checkpoint's metavar in every command, as docs/commands.md and train --init-from CKPT spell it


def add_generator_source(p: argparse.ArgumentParser) -> None:
    """--checkpoint FILE or --pretrained NAME (one of them), and --config for an official g_* file."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", "-c", type=Path, metavar=CKPT,
                        help="our checkpoint (config inside) or an official g_* file")
    add_pretrained(source)
    p.add_argument("--config", default=None,
                   help=f"config for an official g_* checkpoint: {CONFIG_FORMS} (default: the config.json beside it, "
                   "as the official inference.py reads)")


def add_pretrained(group: argparse._MutuallyExclusiveGroup) -> None:
    """--pretrained NAME, a registered generator, in a group beside --checkpoint (one of them)."""
    group.add_argument("--pretrained", metavar="NAME",
                       help="a registered pretrained generator: lj-v1 or universal-v1 (see hifigan pretrained)")


def add_model_source(p: argparse.ArgumentParser, role: str, default: str = "default v1") -> None:
    """--checkpoint FILE, --pretrained NAME or --config alone (default v1): the model whose mel a command computes
    or judges against (model_config); `role` begins each help ("the mel of", "judge against")."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", "-c", type=Path, metavar=CKPT, help=f"{role} this checkpoint's model (our "
                        "checkpoint: config and mel_stats inside; an official g_* file: with --config, or the "
                        "config.json beside it)")
    source.add_argument("--pretrained", metavar="NAME", help=f"{role} a registered pretrained model")
    p.add_argument("--config", default=None, help=f"{role} this config's model: {CONFIG_FORMS} ({default})")


def generator_from_args(args: argparse.Namespace) -> tuple[nn.Module, HifiganConfig]:
    """Generator and config from --checkpoint (with --config) or --pretrained."""
    if args.pretrained is not None:
        from hifigan.pretrained import load_pretrained

        return load_pretrained(args.pretrained, args.config, cli=True)
    from hifigan.checkpoints.contents import load_generator
    from hifigan.pretrained import named_like_a_file

    try:
        return load_generator(args.checkpoint, args.config, cli=True)
    except CheckpointError as e:
        raise named_like_a_file(e, args.checkpoint, cli=True) from None


def model_config(args: argparse.Namespace) -> HifiganConfig:
    """The config of the model named by --pretrained, --checkpoint (with --config for an official g_* file; a file
    that holds no generator is refused, as vocode refuses it) or --config alone (default v1)."""
    from hifigan.config import load_config

    if args.pretrained is not None:
        from hifigan.pretrained import get_model
        from hifigan.pretrained import model_config as registered_config

        return registered_config(get_model(args.pretrained), args.config, cli=True)
    if args.checkpoint is not None:
        from hifigan.checkpoints.contents import CheckpointContents
        from hifigan.checkpoints.format import GENERATOR_PART

        contents = CheckpointContents.read(args.checkpoint, GENERATOR_PART)
        contents.require_generator()  # first what the file is (one holding a generator), then which config it needs
        return contents.config(args.config, cli=True)
    return load_config(args.config or "v1")


def config_file(config: str | os.PathLike | None) -> str | os.PathLike | None:
    """--config when it names a file (load_config reads an existing path before a preset name), else None."""
    return config if config is not None and Path(config).exists() else None
