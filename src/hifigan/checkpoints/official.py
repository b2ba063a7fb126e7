"""The official jik876/hifi-gan checkpoint dicts <-> ours, as pure key renaming, and telling the official files apart.

The official code uses the old hook-based norms, whose state-dict keys are `weight_g`/`weight_v`
(weight norm) and `weight_orig`/`weight_u`/`weight_v` (spectral norm); torch's parametrizations store
the same tensors under `parametrizations.weight.*`. Conversion is a pure renaming, both ways.
"""

from __future__ import annotations

from typing import Any

import torch

StateDict = dict[str, torch.Tensor]

OFFICIAL_DISCRIMINATORS = ("mpd", "msd")  # what an official do_* file holds

_WN = {"weight_g": "parametrizations.weight.original0", "weight_v": "parametrizations.weight.original1"}
_SN = {
    "weight_orig": "parametrizations.weight.original",
    "weight_u": "parametrizations.weight.0._u",
    "weight_v": "parametrizations.weight.0._v",
}


def _spectral_prefixes(keys: list[str], marker: str) -> set[str]:
    return {k[: -len(marker)] for k in keys if k.endswith(marker)}


# The prefix of every key of a model saved wrapped: in (Distributed)DataParallel, or compiled by torch.compile (its
# OptimizedModule holds the model as `_orig_mod`); both at once nest, in either order.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")


def unwrapped(state: StateDict) -> StateDict:
    """`state` without the wrapper prefixes (WRAPPER_PREFIXES, as often as they nest) that every key carries."""
    while state:
        prefix = next((p for p in WRAPPER_PREFIXES if all(str(k).startswith(p) for k in state)), None)
        if prefix is None:
            break
        state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def official_to_ours(state: StateDict) -> StateDict:
    """Rename old-style norm keys to parametrization keys (a module with `weight_orig` is spectral-normed); a state
    saved from a wrapper (DataParallel's 'module.', torch.compile's '_orig_mod.' on every key) loses that prefix
    (only when every key has it)."""
    state = unwrapped(state)
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


# The first and last layers of the HiFi-GAN generator, saved after remove_weight_norm: plain weights.
PLAIN_GENERATOR_KEYS = ("conv_pre.weight", "conv_post.weight")


def is_official_generator(obj: dict[str, Any]) -> bool:
    """An official `g_*` file: {'generator': state dict with weight_g/weight_v keys}, or the same dict saved from a
    model with torch's parametrized weight norm (keys `parametrizations.weight.original0/1`: our keys already), or
    after remove_weight_norm (plain `.weight` keys, conv_pre's and conv_post's among them)."""
    gen = obj.get("generator")
    if not isinstance(gen, dict):
        return False
    markers = (".weight_g", "." + _WN["weight_g"])
    return any(str(k).endswith(markers) for k in gen) or all(k in unwrapped(gen) for k in PLAIN_GENERATOR_KEYS)


# The HiFi-GAN generator's modules, the first part of each of its state dict's keys.
GENERATOR_PARTS = ("conv_pre", "ups", "resblocks", "conv_post")


def is_bare_state(obj: dict[str, Any]) -> bool:
    """A bare state dict, `torch.save(model.state_dict(), ...)`: tensors only, under dotted names, no wrapper."""
    return bool(obj) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def bare_parts(state: StateDict) -> list[str]:
    """The modules a bare state dict holds (its keys' first parts, wrapper prefixes dropped), in key order."""
    return list(dict.fromkeys(k.split(".")[0] for k in unwrapped(state)))


def is_bare_generator(obj: dict[str, Any]) -> bool:
    """A HiFi-GAN generator's bare state dict (ours or the official Generator's, any weight-norm keys, any wrapper
    prefix): tensors only, of GENERATOR_PARTS alone, conv_pre and conv_post among them."""
    if not is_bare_state(obj):
        return False
    parts = bare_parts(obj)
    return set(parts) <= set(GENERATOR_PARTS) and {"conv_pre", "conv_post"} <= set(parts)


def held_modules(state: StateDict) -> str:
    """The modules a bare state dict holds, for a refusal: its first three as `NAME.*`."""
    parts = bare_parts(state)
    return ", ".join(p + ".*" for p in parts[:3]) + (", ..." if len(parts) > 3 else "")


def is_official_discriminators(obj: dict[str, Any]) -> bool:
    """An official `do_*` file: {'mpd', 'msd', 'optim_g', 'optim_d', 'steps', 'epoch'}."""
    return all(isinstance(obj.get(name), dict) for name in OFFICIAL_DISCRIMINATORS)


def is_official_set(names: list[str] | tuple[str, ...]) -> bool:
    """Exactly MPD and MSD: what official do_* files hold (and what export-official can write)."""
    return sorted(names) == sorted(OFFICIAL_DISCRIMINATORS)


def official_generator_dict(generator: StateDict) -> dict[str, StateDict]:
    """Our generator state -> an official `g_*` dict, {'generator': state dict}."""
    return {"generator": ours_to_official(generator)}


def official_discriminators_dict(
    mpd: StateDict, msd: StateDict, optim_g: dict[str, Any] | None = None, optim_d: dict[str, Any] | None = None,
    steps: int = 0, epoch: int = 0,
) -> dict[str, Any]:
    """Our MPD and MSD states (and optimizer states) -> an official `do_*` dict. The optimizer states index
    parameters in module order, which both codes share, so they are stored as they are."""
    return {
        "mpd": ours_to_official(mpd),
        "msd": ours_to_official(msd),
        "optim_g": optim_g if optim_g is not None else {},
        "optim_d": optim_d if optim_d is not None else {},
        "steps": steps,
        "epoch": epoch,
    }
