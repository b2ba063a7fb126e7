"""Reading and writing checkpoints: safe loading (weights only), atomic saving, strict state matching."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hifigan.atomic import atomic_path
from hifigan.config import HifiganConfig, config_from_dict
from hifigan.errors import CheckpointError, ConfigError, HifiganError

FORMAT_KEY = "hifigan_checkpoint"
FORMAT_VERSION = 1


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """torch.load with weights_only=True: tensors and plain containers only, never pickled code."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if path.is_dir():
        raise CheckpointError(path, "is a directory, expected a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "is empty")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e) or "weights_only" in str(e).lower():
            raise CheckpointError(path, "refused: it needs pickled code to load (only weights are loaded)") from None
        raise CheckpointError(path, "not a checkpoint (cannot unpickle)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(path, f"truncated or not a checkpoint ({first})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(path, f"not a checkpoint (holds a {type(obj).__name__}, expected a dict)")
    return obj


def write_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Save atomically: the previous file at `path` stays intact until the new one is complete."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_state_strict(module: nn.Module, state: Any, source: str | os.PathLike | None, what: str) -> None:
    """load_state_dict, but a mismatch names the first missing, unexpected or mis-shaped key."""
    if not isinstance(state, dict):
        raise CheckpointError(source, f"{what} is not a state dict")
    expected = module.state_dict()
    for key, tensor in expected.items():
        if key not in state:
            raise CheckpointError(source, f"{what} does not fit the config: missing key {key}")
        value = state[key]
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(source, f"{what}: {key} is not a tensor")
        if value.shape != tensor.shape:
            raise CheckpointError(
                source,
                f"{what} does not fit the config: {key} has shape {tuple(value.shape)}, "
                f"the model expects {tuple(tensor.shape)}",
            )
    for key in state:
        if key not in expected:
            raise CheckpointError(source, f"{what} does not fit the config: unexpected key {key}")
    module.load_state_dict(state)


def is_own_checkpoint(obj: dict[str, Any]) -> bool:
    return obj.get(FORMAT_KEY) == FORMAT_VERSION


def config_of(obj: dict[str, Any], source: str | os.PathLike | None) -> HifiganConfig:
    """The config stored inside one of our checkpoints."""
    if "config" not in obj:
        raise CheckpointError(source, "checkpoint has no config")
    try:
        return config_from_dict(obj["config"], source)
    except ConfigError as e:
        raise CheckpointError(source, f"stored config is invalid: {e.problem}") from None


def generator_payload(state: dict[str, torch.Tensor], config: HifiganConfig, **extra: Any) -> dict[str, Any]:
    """Our checkpoint dict for a generator (plus any training state in `extra`)."""
    return {FORMAT_KEY: FORMAT_VERSION, "config": config.to_dict(), "generator": state, **extra}


def load_generator(path: str | os.PathLike, config: str | os.PathLike | HifiganConfig | None = None):
    """Generator (training-mode, weight norm kept) and its config from our checkpoint or an official `g_*` file.

    An official file carries no config, so `config` is required for it; ours carries its own.
    """
    from hifigan.compat import is_official_generator, load_official_generator
    from hifigan.config import load_config
    from hifigan.models import Generator

    obj = read_checkpoint(path)
    if is_own_checkpoint(obj):
        cfg = config_of(obj, path)
        if "generator" not in obj:
            raise CheckpointError(path, "checkpoint holds no generator")
        generator = Generator(cfg)
        load_state_strict(generator, obj["generator"], path, "generator")
        return generator, cfg
    if is_official_generator(obj):
        if config is None:
            raise CheckpointError(path, "official checkpoint carries no config: pass --config (v1, v2, v3 or a json)")
        cfg = load_config(config)
        return load_official_generator(obj["generator"], cfg, source=path), cfg
    raise CheckpointError(path, "not a HiFi-GAN generator checkpoint (no 'generator' weights)")


__all__ = [
    "HifiganError",
    "config_of",
    "generator_payload",
    "is_own_checkpoint",
    "load_generator",
    "load_state_strict",
    "read_checkpoint",
    "write_checkpoint",
]
