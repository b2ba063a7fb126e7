"""Official jik876/hifi-gan checkpoints <-> this package, exactly.

The official code uses the old hook-based norms, whose state-dict keys are `weight_g`/`weight_v`
(weight norm) and `weight_orig`/`weight_u`/`weight_v` (spectral norm); torch's parametrizations store
the same tensors under `parametrizations.weight.*`. Conversion is a pure renaming, both ways.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from hifigan.checkpoint import load_state_strict
from hifigan.config import HifiganConfig
from hifigan.errors import CheckpointError
from hifigan.models import Generator, MultiPeriodDiscriminator, MultiScaleDiscriminator

StateDict = dict[str, torch.Tensor]

_WN = {"weight_g": "parametrizations.weight.original0", "weight_v": "parametrizations.weight.original1"}
_SN = {
    "weight_orig": "parametrizations.weight.original",
    "weight_u": "parametrizations.weight.0._u",
    "weight_v": "parametrizations.weight.0._v",
}


def _spectral_prefixes(keys: list[str], marker: str) -> set[str]:
    return {k[: -len(marker)] for k in keys if k.endswith(marker)}


def official_to_ours(state: StateDict) -> StateDict:
    """Rename old-style norm keys to parametrization keys (a module with `weight_orig` is spectral-normed)."""
    spectral = _spectral_prefixes(list(state), "weight_orig")
    out = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        prefix = prefix + "." if prefix else ""
        table = _SN if prefix in spectral else _WN
        out[prefix + table.get(leaf, leaf)] = value
    return out


def ours_to_official(state: StateDict) -> StateDict:
    """Inverse of `official_to_ours`."""
    reverse = {v: k for k, v in (*_WN.items(), *_SN.items())}
    out = {}
    for key, value in state.items():
        for new, old in reverse.items():
            if key.endswith("." + new) or key == new:
                key = key[: len(key) - len(new)] + old
                break
        out[key] = value
    return out


def is_official_generator(obj: dict[str, Any]) -> bool:
    """An official `g_*` file: {'generator': state dict with weight_g/weight_v keys}."""
    gen = obj.get("generator")
    return isinstance(gen, dict) and any(str(k).endswith(".weight_g") for k in gen)


def is_official_discriminators(obj: dict[str, Any]) -> bool:
    """An official `do_*` file: {'mpd', 'msd', 'optim_g', 'optim_d', 'steps', 'epoch'}."""
    return isinstance(obj.get("mpd"), dict) and isinstance(obj.get("msd"), dict)


def load_official_generator(
    state_dict: StateDict, config: HifiganConfig, source: str | os.PathLike | None = None
) -> Generator:
    """A Generator holding an official checkpoint's 'generator' weights (weight norm kept)."""
    if "generator" in state_dict and isinstance(state_dict["generator"], dict):
        state_dict = state_dict["generator"]
    generator = Generator(config)
    load_state_strict(generator, official_to_ours(state_dict), source, "generator")
    return generator


def load_official_discriminators(
    do_state_dict: dict[str, Any], source: str | os.PathLike | None = None
) -> tuple[MultiPeriodDiscriminator, MultiScaleDiscriminator]:
    """MPD and MSD holding an official `do_*` checkpoint's weights."""
    if not is_official_discriminators(do_state_dict):
        raise CheckpointError(source, "not an official do_* checkpoint (needs 'mpd' and 'msd')")
    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    load_state_strict(mpd, official_to_ours(do_state_dict["mpd"]), source, "mpd")
    load_state_strict(msd, official_to_ours(do_state_dict["msd"]), source, "msd")
    return mpd, msd


def to_official_generator(generator: Generator) -> dict[str, StateDict]:
    """{'generator': state dict} as the official code saves and loads it."""
    return {"generator": ours_to_official(generator.state_dict())}


def to_official_discriminators(
    mpd: MultiPeriodDiscriminator,
    msd: MultiScaleDiscriminator,
    optim_g: dict[str, Any] | None = None,
    optim_d: dict[str, Any] | None = None,
    steps: int = 0,
    epoch: int = 0,
) -> dict[str, Any]:
    """An official `do_*` dict. The optimizer states index parameters in module order, which both codes share."""
    return {
        "mpd": ours_to_official(mpd.state_dict()),
        "msd": ours_to_official(msd.state_dict()),
        "optim_g": optim_g if optim_g is not None else {},
        "optim_d": optim_d if optim_d is not None else {},
        "steps": steps,
        "epoch": epoch,
    }
