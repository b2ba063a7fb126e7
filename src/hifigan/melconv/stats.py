"""The --mel-stats file of a normalised mel: .npz with per-bin (or scalar) mean/std or min/max, optional base."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hifigan.errors import MelError
from hifigan.melconv.conventions import MelStats

LOG_BASES = ("official", "ln-floor", "log10", "ln-power", "log10-power", "db")


def load_stats(path: str | os.PathLike, num_mels: int) -> MelStats:
    """Read `mean` and `std` and/or `min` and `max` ([num_mels] or scalar) and an optional `convention` string
    naming the log convention that was normalised (default official)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except FileNotFoundError:
        raise MelError(path, "no such file") from None
    except Exception as e:
        raise MelError(path, f"not a readable .npz of statistics ({type(e).__name__})") from None
    base = str(arrays.pop("convention", np.asarray("official")))
    if base not in LOG_BASES:
        raise MelError(path, f"convention {base!r}: the normalised mel must be one of {', '.join(LOG_BASES)}")
    values: dict[str, np.ndarray] = {}
    for key in ("mean", "std", "min", "max"):
        if key in arrays:
            v = arrays[key].astype(np.float64)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != num_mels) or not np.isfinite(v).all():
                raise MelError(path, f"'{key}' must be a finite scalar or {num_mels} values, got shape {v.shape}")
            values[key] = v
    if not ({"mean", "std"} <= values.keys() or {"min", "max"} <= values.keys()):
        raise MelError(path, "needs 'mean' and 'std', or 'min' and 'max'")
    return MelStats(values.get("mean"), values.get("std"), values.get("min"), values.get("max"), base)
