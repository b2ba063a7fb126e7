"""Statistics of normalised mels, read from the files front-ends write, for `vocode --mel-stats` and a model's own
`mel_stats` (a file, or the values a checkpoint stores).

Formats: ours (.npz: `mean`/`std` and/or `min`/`max`, optional `convention`), Parallel WaveGAN's stats.h5 (`mean`,
`scale`: sklearn's StandardScaler) and stats.npy ([2, num_mels]: mean, scale), ESPnet2's feats_stats.npz (`count`,
`sum`, `sum_square`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hifigan.errors import ConfigError, HifiganError, MelError
from hifigan.melconv.conventions import CONVENTIONS, FRONT_END, MelStats

LOG_BASES = tuple(name for name in FRONT_END if not CONVENTIONS[name].linear)
PWG_CONVENTION = "log10"  # Parallel WaveGAN's logmelfilterbank: log10 of the mel magnitude, floor 1e-10
ESPNET_CONVENTION = "log10"  # ESPnet2's TTS LogMelFbank: log_base 10 unless its config says otherwise
ESPNET_VARIANCE_FLOOR = 1e-20  # ESPnet2's GlobalMVN: std = sqrt(max(E[x^2] - E[x]^2, 1e-20))


def read_stats(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], str | None]:
    """A statistics file's arrays by our names (mean, std, min, max; as stored: _checked makes them numbers) and
    the log convention it says it normalised (its `convention`; Parallel WaveGAN's and ESPnet2's files: log10;
    otherwise None). Bad files: MelError."""
    path = Path(path)
    if not path.is_file():
        raise MelError(path, "no such statistics file" if not path.exists() else "is not a file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".h5", ".hdf5"):
            return _read_h5(path), PWG_CONVENTION
        if suffix == ".npy":
            both = np.load(path, allow_pickle=False)
            if both.ndim != 2 or both.shape[0] != 2:
                raise MelError(path, f"a Parallel WaveGAN stats.npy is [2, num_mels] (mean, scale), got {both.shape}")
            return {"mean": both[0], "std": both[1]}, PWG_CONVENTION
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except HifiganError:
        raise
    except Exception as e:  # any reader failure on these bytes: not a statistics file
        raise MelError(path, f"not a readable statistics file ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    stated = str(arrays.pop("convention")) if "convention" in arrays else None
    if stated is not None and stated not in LOG_BASES:
        raise MelError(path, f"convention {stated!r}: the normalised mel must be one of {', '.join(LOG_BASES)}")
    if {"count", "sum", "sum_square"} <= arrays.keys():  # ESPnet2's TTS features (LogMelFbank): log10 by default
        try:
            return _espnet(arrays), stated or ESPNET_CONVENTION
        except (TypeError, ValueError):
            raise MelError(path, "'count', 'sum' and 'sum_square' must be numbers") from None
    return {k: arrays[k] for k in ("mean", "std", "min", "max") if k in arrays}, stated  # _checked makes them numbers


def _read_h5(path: Path) -> dict[str, np.ndarray]:
    import h5py

    with h5py.File(path, "r") as f:
        missing = [k for k in ("mean", "scale") if k not in f]
        if missing:
            raise MelError(path, f"a Parallel WaveGAN stats.h5 holds 'mean' and 'scale'; missing {missing}")
        return {"mean": np.asarray(f["mean"][()], np.float64), "std": np.asarray(f["scale"][()], np.float64)}


def _espnet(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """ESPnet2's accumulated sums -> mean and std as its GlobalMVN computes them."""
    count = arrays["count"].astype(np.float64)
    mean = arrays["sum"].astype(np.float64) / count
    variance = arrays["sum_square"].astype(np.float64) / count - mean**2
    return {"mean": mean, "std": np.sqrt(np.maximum(variance, ESPNET_VARIANCE_FLOOR))}


def _checked(arrays: Mapping[str, Any], num_mels: int, fail: Callable[[str], HifiganError]) -> dict[str, np.ndarray]:
    """Each statistic a finite scalar or [num_mels] float64; std and max - min must be positive."""
    values = {}
    for key in ("mean", "std", "min", "max"):
        if key not in arrays:
            continue
        try:
            v = np.asarray(arrays[key], dtype=np.float64)
        except (TypeError, ValueError):
            raise fail(f"'{key}' must be numbers") from None
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != num_mels):
            raise fail(f"'{key}' has shape {v.shape}, the model has {num_mels} mel bins (need a scalar or "
                       f"{num_mels} values)")
        if not np.isfinite(v).all():
            raise fail(f"'{key}' has non-finite values")
        values[key] = v
    if "std" in values and (values["std"] <= 0).any():
        raise fail("'std' must be > 0 in every bin (a zero std cannot be undone)")
    if {"min", "max"} <= values.keys() and (values["max"] <= values["min"]).any():
        raise fail("'max' must be above 'min' in every bin")
    return values


def load_stats(path: str | os.PathLike, num_mels: int) -> MelStats:
    """`vocode --mel-stats`: mean/std and/or min/max of a normalised input, in the log convention the file names
    (default official)."""
    arrays, stated = read_stats(path)
    values = _checked(arrays, num_mels, lambda problem: MelError(path, problem))
    if not ({"mean", "std"} <= values.keys() or {"min", "max"} <= values.keys()):
        raise MelError(path, "needs 'mean' and 'std', or 'min' and 'max'")
    return MelStats(values.get("mean"), values.get("std"), values.get("min"), values.get("max"),
                    stated or "official")


def stats_argument(value: object, num_mels: int) -> MelStats | None:
    """`Vocoder.set_mel_convention`'s `stats`: None, a MelStats, or a statistics file read as `--mel-stats` reads it
    (load_stats); anything else a TypeError naming the argument, when it is given, not when a mel is vocoded."""
    if value is None or isinstance(value, MelStats):
        return value
    if isinstance(value, str | os.PathLike):
        return load_stats(value, num_mels)
    raise TypeError(f"stats must be a statistics file (a path, as --mel-stats reads) or a MelStats, got "
                    f"{type(value).__name__}")


def model_stats(value: str | os.PathLike | Mapping[str, Any] | None, num_mels: int, convention: str) -> MelStats | None:
    """A model's `mel_stats` (a statistics file, or the {"mean": [...], "std": [...]} a checkpoint stores) as
    per-bin mean/std [num_mels] of its convention; None when it has none."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        def fail(problem: str) -> HifiganError:
            return ConfigError(None, f"mel_stats: {problem}")

        unknown = set(value) - {"mean", "std"}
        if unknown:
            raise fail(f"unknown keys {sorted(unknown)} (give 'mean' and 'std', or a statistics file)")
        arrays, stated = dict(value), None
    elif isinstance(value, str | os.PathLike):
        def fail(problem: str) -> HifiganError:
            return MelError(value, f"mel_stats: {problem}")

        arrays, stated = read_stats(value)
    else:
        raise ConfigError(None, f"mel_stats must be a statistics file or a mapping of mean and std, got "
                                f"{type(value).__name__}")
    values = _checked(arrays, num_mels, fail)
    if not {"mean", "std"} <= values.keys():
        raise fail("needs per-bin 'mean' and 'std' (a model normalises by mean and std only)")
    if stated is not None and stated != convention:
        raise fail(f"statistics of {stated} mels, but the model's mel_convention is {convention}")
    mean, std = (np.broadcast_to(values[k], (num_mels,)).copy() for k in ("mean", "std"))
    return MelStats(mean=mean, std=std, base=convention)


def inline_stats(stats: MelStats) -> dict[str, list[float]]:
    """The values a config (and so a checkpoint) stores in place of the file: {"mean": [...], "std": [...]}."""
    return {"mean": [float(v) for v in stats.mean], "std": [float(v) for v in stats.std]}
