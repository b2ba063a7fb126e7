"""How many of each residual block's dilations the official jik876/hifi-gan code reads: its ResBlock1 builds
exactly three dilated convolutions (dilation[0..2]) and ResBlock2 exactly two (dilation[0..1]), whatever
`resblock_dilation_sizes` lists. Ours build one per listed dilation, so a config listing more (V1's [1, 3, 5] with
resblock "2", a copied preset's usual edit) means another model here than there: an official g_* file of it is
read as the official code built it, and export-official says where the official code cannot load ours."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hifigan.checkpoints.official import StateDict
from hifigan.config import HIFIGAN_GENERATOR, HifiganConfig
from hifigan.config.files import read_config_file
from hifigan.errors import HifiganError

OFFICIAL_DILATIONS = {"1": 3, "2": 2}  # resblock -> the dilated convolutions per block the official code builds


def as_official_code_builds(config: HifiganConfig, state: StateDict) -> HifiganConfig:
    """`config` with each block's dilations cut to the official count where it lists more and the g_* weights
    `state` (our keys) hold that count per block, as the official code built them; else `config` itself (a fork's
    file that holds every listed dilation still loads with its config)."""
    count = OFFICIAL_DILATIONS.get(config.resblock)
    if config.generator != HIFIGAN_GENERATOR or count is None:
        return config
    if all(len(d) <= count for d in config.resblock_dilation_sizes):
        return config
    held = {k.split(".")[3] for k in state if k.startswith("resblocks.0.convs") and k.count(".") >= 4}
    if len(held) != count:
        return config
    return dataclasses.replace(config, resblock_dilation_sizes=[d[:count] for d in config.resblock_dilation_sizes])


def official_dilation_problem(config: HifiganConfig, name: str) -> str | None:
    """One line where the official code cannot load g_* file `name` of this model because a block has another
    number of dilations than its ResBlock builds (more: unexpected weights; fewer: it fails to build); else None."""
    count = OFFICIAL_DILATIONS.get(config.resblock)
    if count is None:
        return None
    for i, dilations in enumerate(config.resblock_dilation_sizes):
        if len(dilations) != count:
            return (f"{name}: the official code cannot load it: its ResBlock{config.resblock} builds {count} "
                    f"dilated convolutions per block (resblock_dilation_sizes' first {count}), this model's "
                    f"resblock_dilation_sizes[{i}] has {len(dilations)}")
    return None


def resblock_number(config_name: str | os.PathLike | None, config: HifiganConfig, state: StateDict) -> str:
    """Where a config file gives `resblock` as the number 1 (read here as "1", ResBlock1: docs/training.md) and the
    weights `state` are ResBlock2's: the hint that the official code, which tests `resblock == "1"`, built ResBlock2
    from it; else ''."""
    if config.resblock != "1" or config_name is None or not Path(config_name).is_file():
        return ""
    if not any(k.startswith("resblocks.") and ".convs." in k for k in state):
        return ""
    try:
        written = read_config_file(config_name)[1].get("resblock")
    except HifiganError:
        return ""
    if type(written) is not int or written != 1:
        return ""
    return (f"; {os.fspath(config_name)} gives resblock as the number 1, from which the official code builds "
            'ResBlock2 (it tests resblock == "1"): write "2" for these weights')
