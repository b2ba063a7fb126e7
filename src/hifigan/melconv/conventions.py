"""The mel conventions other front-ends use, and the exact maps from each back to the official log-mel.

Official: natural log of the Slaney mel magnitude M, floored at 1e-5 (ln 1e-5 = -11.5129). Every log or linear
convention below is an elementwise function of M (or of M with another floor), so converting it is exact once
the official floor is re-applied: max(ln M, ln 1e-5) = ln max(M, 1e-5) whenever the source floor is <= 1e-5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OFFICIAL_FLOOR = math.log(1e-5)  # -11.512925...
LN10 = math.log(10.0)


@dataclass(frozen=True)
class Convention:
    """One convention: its name (the --mel-convention value), what it is, and how a value maps to nats of M."""

    name: str
    formula: str
    scale: float | None  # official = scale * value (+ offset) for the log conventions; None otherwise
    convertible: bool = True
    needs_stats: bool = False
    note: str = ""


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("official", "ln(max(M, 1e-5))", 1.0),
    Convention("ln-floor", "ln(max(M, f)), another floor f (1e-7, 1e-10, ...)", 1.0,
               note="exact when f <= 1e-5; a floor above 1e-5 has lost the values below it"),
    Convention("log10", "log10(max(M, f))", LN10),
    Convention("ln-power", "ln(max(M^2, f))", 0.5),
    Convention("log10-power", "log10(max(M^2, f))", LN10 / 2),
    Convention("db", "20*log10(max(M, f)) = 10*log10(M^2), reference 1", LN10 / 20,
               note="a top_db clip above -100 dB has lost the values below it"),
    Convention("db-ref", "20*log10(M / ref), e.g. librosa ref=np.max", LN10 / 20,
               note="exact with the reference amplitude (--mel-db-ref); ref=np.max is lost unless you kept it"),
    Convention("linear-magnitude", "M (no log)", None),
    Convention("linear-power", "M^2 (no log)", None),
    Convention("meanstd", "(x - mean) / std per bin, x a log convention", None, needs_stats=True),
    Convention("minmax01", "(x - min) / (max - min), x a log convention", None, needs_stats=True),
    Convention("minmax4", "8 * (x - min) / (max - min) - 4, x a log convention", None, needs_stats=True),
    Convention("transposed", "[frames, num_mels] instead of [num_mels, frames]", None),
    Convention("mel-of-power", "filterbank applied to |X|^2 (librosa power=2.0), not (filterbank |X|)^2", None,
               convertible=False),
    Convention("other-fmax", "another fmax (e.g. sr/2 instead of 8000)", None, convertible=False),
    Convention("htk-mel", "HTK mel scale or unnormalised filters", None, convertible=False),
    Convention("other-hop", "another hop, window, n_fft or sampling rate", None, convertible=False),
)}

NO_EXACT_MAP = ("no exact map to the official mel exists (the filterbank or framing differs): compute the mel "
                "from the audio with `hifigan mel`, or fine-tune on your own mels (`hifigan train --input-mels`)")


@dataclass(frozen=True)
class MelStats:
    """Statistics of a normalised mel, per bin ([num_mels]) or scalar, in the domain of `base` (a log convention)."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    base: str = "official"


def parse_convention(spec: str) -> tuple[bool, str]:
    """'log10', 'transposed+db', ... -> (transposed, convention name); raises ValueError naming the problem."""
    parts = [p.strip() for p in spec.split("+") if p.strip()]
    transposed = "transposed" in parts
    rest = [p for p in parts if p != "transposed"]
    if len(rest) > 1:
        raise ValueError(f"--mel-convention {spec}: name one convention (plus 'transposed'), got {', '.join(rest)}")
    name = rest[0] if rest else "official"
    if name not in CONVENTIONS or name == "transposed":
        raise ValueError(f"--mel-convention {spec}: unknown convention {name!r} (choose from {', '.join(CONVENTIONS)})")
    if not CONVENTIONS[name].convertible:
        raise ValueError(f"--mel-convention {name}: {NO_EXACT_MAP}")
    return transposed, name


def log_to_official(x: np.ndarray, name: str, db_ref: float = 1.0) -> np.ndarray:
    """A log- or linear-convention mel (float64) -> the official log-mel, floor re-applied at ln(1e-5)."""
    x = np.asarray(x, dtype=np.float64)
    conv = CONVENTIONS[name]
    if name == "linear-magnitude":
        nats = np.log(np.maximum(x, 1e-5))
    elif name == "linear-power":
        nats = 0.5 * np.log(np.maximum(x, 1e-10))
    elif name == "db-ref":
        nats = conv.scale * x + math.log(db_ref)
    elif conv.scale is not None:
        nats = conv.scale * x
    else:
        raise ValueError(f"{name} is not a log or linear convention")
    return np.maximum(nats, OFFICIAL_FLOOR)


def denormalise(x: np.ndarray, name: str, stats: MelStats) -> np.ndarray:
    """Undo a mean/std or min-max normalisation ([num_mels, T] float64): back to the domain of `stats.base`."""
    x = np.asarray(x, dtype=np.float64)

    def col(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return v.reshape(-1, 1) if v.ndim == 1 else v

    if name == "meanstd":
        if stats.mean is None or stats.std is None:
            raise ValueError("meanstd needs per-bin 'mean' and 'std' in --mel-stats")
        return x * col(stats.std) + col(stats.mean)
    if stats.low is None or stats.high is None:
        raise ValueError(f"{name} needs per-bin 'min' and 'max' in --mel-stats")
    unit = x if name == "minmax01" else (x + 4.0) / 8.0
    return unit * (col(stats.high) - col(stats.low)) + col(stats.low)


def to_official(
    mel: np.ndarray, spec: str, stats: MelStats | None = None, db_ref: float | None = None
) -> np.ndarray:
    """[num_mels, T] (or [T, num_mels] with 'transposed') mel in convention `spec` -> official [num_mels, T] float64.

    Raises ValueError where no exact map exists or what the map needs (statistics, a dB reference) is missing.
    """
    transposed, name = parse_convention(spec)
    x = np.asarray(mel, dtype=np.float64)
    if transposed:
        x = np.swapaxes(x, -1, -2)
    if name == "official":
        return x
    if CONVENTIONS[name].needs_stats:
        if stats is None:
            raise ValueError(f"--mel-convention {name} needs the normalisation statistics (--mel-stats FILE)")
        x, name = denormalise(x, name, stats), stats.base
        if name == "official":
            return np.maximum(x, OFFICIAL_FLOOR)
    if name == "db-ref":
        if db_ref is None:
            raise ValueError("--mel-convention db-ref needs the reference amplitude (--mel-db-ref REF); "
                             "a per-utterance ref=np.max is lost unless it was saved")
        return log_to_official(x, name, db_ref)
    return log_to_official(x, name)
