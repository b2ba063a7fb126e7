"""Our checkpoint file format: safe reading (weights only; what a file that does not load is:
hifigan.checkpoints.unreadable), atomic writing, strict state matching, the payload and the config it carries. What a
file is (ours or official) and what it holds: hifigan.checkpoints.contents."""

from __future__ import annotations

import errno
import os
import pickle
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hifigan.checkpoints.archive import damaged_record, is_data_record
from hifigan.checkpoints.key_spelling import Spelling, misfit_spelling
from hifigan.checkpoints.misfit import generator_mismatch
from hifigan.checkpoints.part_read import read_part
from hifigan.checkpoints.unreadable import load_failure, unpickling_problem
from hifigan.config import HifiganConfig, config_from_dict
from hifigan.errors import CheckpointError, ConfigError, HifiganError
from hifigan.files.atomic import atomic_paths
from hifigan.files.write_failures import write_failure
from hifigan.models.norms import WEIGHT_NORM_KEYS, with_weight_norms

FORMAT_KEY = "hifigan_checkpoint"
FORMAT_VERSION = 1
GENERATOR_PART = (FORMAT_KEY, "config", "generator")  # what a generator's load reads of one of ours


def read_checkpoint(path: str | os.PathLike, part: tuple[str, ...] | None = None) -> dict[str, Any]:
    """torch.load with weights_only=True: tensors and plain containers only, never pickled code.

    Any failure to parse the file (it is untrusted input) becomes a CheckpointError naming it. A zip file's records
    are checked against their CRC-32 first (torch.load does not: damaged tensor bytes would load as garbage); a legacy
    non-zip torch file carries no checksum and loads unchecked. `part`: the top-level keys to read of one of ours
    (GENERATOR_PART: what a vocoder needs); only the records of their tensors are checked and read (part_read).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if path.is_dir():
        raise CheckpointError(path, "is a directory, expected a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "is empty")
    _refuse_damage(path, None if part is None else lambda name: not is_data_record(name))
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": noise on stderr, not a problem
            warnings.simplefilter("ignore")
            if part is None:
                obj = torch.load(path, map_location="cpu", weights_only=True)
            else:
                obj = read_part(path, part, is_own_checkpoint, _refuse_damage)
    except CheckpointError:
        raise
    except pickle.UnpicklingError as e:
        raise CheckpointError(path, unpickling_problem(path, e)) from None
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EIO, errno.EISDIR):
            raise CheckpointError(path, f"cannot read ({e.strerror})") from None
        raise CheckpointError(path, load_failure(path, e)) from None
    except Exception as e:  # any other parser failure (IndexError, KeyError, MemoryError, ...) means a bad file
        raise CheckpointError(path, load_failure(path, e)) from None
    if not isinstance(obj, dict):
        raise CheckpointError(path, f"not a checkpoint (holds a {type(obj).__name__}, expected a dict)")
    return checked_format(obj, path)


def _refuse_damage(path: Path, checked: Callable[[str], bool] | None = None) -> None:
    """A CheckpointError where one of the zip records `checked` names (all by default) is damaged (damaged_record)."""
    try:
        damage = damaged_record(path, checked)
    except OSError as e:
        raise CheckpointError(path, f"cannot read ({e.strerror})") from None
    if damage is not None:
        raise CheckpointError(path, f"truncated or corrupt checkpoint ({damage})")


def checked_format(obj: dict[str, Any], path: str | os.PathLike | None) -> dict[str, Any]:
    """`obj`, unless it is ours in a layout this version does not know (a one-line CheckpointError)."""
    if FORMAT_KEY in obj and obj[FORMAT_KEY] != FORMAT_VERSION:
        raise CheckpointError(path, f"hifigan checkpoint format {obj[FORMAT_KEY]!r}; this version reads format "
                                    f"{FORMAT_VERSION} (written by another hifigan version?)")
    return obj


def write_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Save atomically: the previous file at `path` stays intact until the new one is complete."""
    write_checkpoints({path: payload})


def write_checkpoints(files: Mapping[str | os.PathLike, dict[str, Any] | str]) -> None:
    """Save several files as a unit (an official g_/do_ pair and the config.json beside): all are written to
    temporary files first and renamed only once every one is complete, so a failure (a full disk at the second)
    leaves none of them. A str payload is written as UTF-8 text, any other with torch.save."""
    with atomic_paths(list(files)) as temps:
        for tmp, (path, payload) in zip(temps, files.items()):
            try:
                if isinstance(payload, str):
                    tmp.write_text(payload, encoding="utf-8")
                else:
                    torch.save(payload, tmp)
            except (RuntimeError, OSError) as e:  # torch's zip writer reports a full disk as a RuntimeError
                raise write_failure(path, e) from None


def load_state_strict(module: nn.Module, state: Any, source: str | os.PathLike | None, what: str,
                      config_name: str | os.PathLike | None = None, spelled: Spelling | None = None) -> None:
    """load_state_dict, but a mismatch names the first missing, unexpected or mis-shaped key as the file spells it
    (`spelled`: key_spelling.file_spelling of an official or bare file; a plain weight as such), for the generator
    the config key behind it too (generator_mismatch), and `config_name` (the config's file or preset) where given.
    A weight-normed layer's plain weight (a model saved after remove_weight_norm) is taken as its g and v
    (models.norms.with_weight_norms): the same weight, exactly."""
    if not isinstance(state, dict):
        raise CheckpointError(source, f"{what} is not a state dict")
    normed = with_weight_norms(module, state)
    name, state = misfit_spelling(state, normed, spelled), normed
    expected = module.state_dict()

    def unfit(key: str, detail: str, short: str | None = None) -> CheckpointError:
        """The error for `key`: `detail`, or the config key behind it (generator_mismatch) with `short` or `detail`."""
        hint = generator_mismatch(key, state, expected) if what == "generator" else None
        config = "the config" if config_name is None else f"the config {os.fspath(config_name)}"
        return CheckpointError(source, f"{what} does not fit {config}: "
                                       + (f"{hint} ({short or detail})" if hint else detail))

    for key, tensor in expected.items():
        if key not in state:
            raise unfit(key, f"missing key {name(key)}")
        value = state[key]
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(source, f"{what}: {name(key)} is not a tensor")
        if value.shape != tensor.shape:
            key = _direction_of_plain(key, name, expected)
            got, want = tuple(state[key].shape), tuple(expected[key].shape)
            raise unfit(key, f"{name(key)} has shape {got}, the model expects {want}", f"{name(key)} {got} vs {want}")
    for key in state:
        if key not in expected:
            raise unfit(key, f"unexpected key {name(key)}")
    module.load_state_dict(state)


def _direction_of_plain(key: str, name: Spelling, expected: dict[str, Any]) -> str:
    """The v of a weight norm whose g `key` was made from a file's plain weight (g's shape is derived from v's, and
    the file's weight is v: its shapes are the ones to show); else `key`."""
    g, v = WEIGHT_NORM_KEYS
    if key.endswith("." + g):
        direction = key[: len(key) - len(g)] + v
        if direction in expected and name(direction) == name(key):
            return direction
    return key


def is_own_checkpoint(obj: dict[str, Any]) -> bool:
    return obj.get(FORMAT_KEY) == FORMAT_VERSION


def config_of(obj: dict[str, Any], source: str | os.PathLike | None) -> HifiganConfig:
    """The config stored inside one of our checkpoints."""
    if "config" not in obj:
        raise CheckpointError(source, "checkpoint has no config")
    if not isinstance(obj["config"], dict):
        raise CheckpointError(source, f"stored config is invalid: a {type(obj['config']).__name__}, expected a dict "
                                      "of config keys")
    try:
        return config_from_dict(obj["config"], source)
    except ConfigError as e:
        raise CheckpointError(source, f"stored config is invalid: {e.problem}") from None


def generator_payload(state: dict[str, torch.Tensor], config: HifiganConfig, **extra: Any) -> dict[str, Any]:
    """Our checkpoint dict for a generator (plus any training state in `extra`)."""
    return {FORMAT_KEY: FORMAT_VERSION, "config": config.to_dict(), "generator": state, **extra}


__all__ = [
    "HifiganError",
    "config_of",
    "generator_payload",
    "is_own_checkpoint",
    "load_state_strict",
    "read_checkpoint",
    "write_checkpoint",
]
