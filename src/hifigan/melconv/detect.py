"""Which convention a mel follows, from its values alone: floor, range, level spread and temporal dynamics.

Every log convention is a scaled natural-log mel (official = scale * value), so each hypothesis is judged in the
official domain: its floor must be a round power of ten, its maximum must be one real audio can give (<= 4.5 nats:
a full-scale sine reaches about 2.3), and its spread must be one a mel can have. Values exactly at a floor are the
strongest evidence; without a floor, a spread typical of speech decides only when the official reading is
implausible, so official mels of noise or tones are not flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hifigan.errors import MelError
from hifigan.melconv.conventions import CONVENTIONS, LN10, OFFICIAL_FLOOR

MAX_NATS = 4.5  # above any official mel of audio in [-1, 1]
MAX_SPREAD = MAX_NATS - math.log(1e-12)  # widest official-domain range with the lowest floor we recognise
SPEECH_SPREAD = (5.5, 14.0)  # p1..p99 of the non-floor values of speech, in nats, at any level
SPEECH_CENTRE = 8.8  # its typical value (bundled clips, 0 to -40 dBFS)
LOG_HYPOTHESES = ("official", "log10", "ln-power", "log10-power", "db")


@dataclass
class MelVerdict:
    """The check's answer: the most likely convention, how sure (0..1), and the numbers behind it."""

    convention: str
    confidence: float
    transposed: bool = False
    evidence: dict[str, float] = field(default_factory=dict)
    detail: str = ""

    @property
    def official(self) -> bool:
        return self.convention == "official" and not self.transposed

    @property
    def option(self) -> str:
        """The vocode option that converts this mel, or what to do instead."""
        if self.official:
            return "none needed"
        if self.convention == "unknown":
            return "no conversion known: check the front-end that made it"
        name = ("transposed+" if self.transposed else "") + self.convention
        if name == "transposed+official":
            name = "transposed"
        conv = CONVENTIONS[self.convention]
        extra = " --mel-stats FILE" if conv.needs_stats else " --mel-db-ref REF" if name.endswith("db-ref") else ""
        return f"--mel-convention {name}{extra}"

    def line(self) -> str:
        """One line: convention, confidence, evidence, option."""
        shown = ("transposed, " if self.transposed else "") + self.convention
        shown += f" ({self.detail})" if self.detail else ""
        numbers = " ".join(f"{k}={v:.4g}" for k, v in self.evidence.items())
        return f"{shown}, confidence {self.confidence:.2f} [{numbers}]; convert: {self.option}"


def _floor_evidence(x: np.ndarray) -> tuple[float, float]:
    """The minimum and the share of values sitting exactly on it (float32 rounding allowed)."""
    low = float(x.min())
    on = float(np.mean(x <= low + 1e-6 * max(1.0, abs(low))))
    return low, on


def _round_floor(nats: float) -> float | None:
    """The floor amplitude 10^-k a floor of `nats` stands for, or None when it is no round power of ten."""
    k = nats / LN10
    if k > -2.9 or abs(k - round(k)) > 2e-3:
        return None
    return 10.0 ** round(k)


def _spread(values: np.ndarray) -> float:
    if values.size < 2:
        return 0.0
    p1, p99 = np.percentile(values, [1, 99])
    return float(p99 - p1)


def detect(mel: np.ndarray, num_mels: int = 80) -> MelVerdict:
    """[num_mels, T] (or [T, num_mels], or [1, num_mels, T]) mel -> MelVerdict. Costs a few passes over the values."""
    x = np.asarray(mel)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.floating) or x.size == 0 or not np.isfinite(x).all():
        raise ValueError("expected a finite floating-point mel of shape [num_mels, frames]")
    transposed = x.shape[0] != num_mels and x.shape[1] == num_mels
    if transposed:
        x = x.T
    verdict = _classify(x.astype(np.float64, copy=False))
    verdict.transposed = transposed
    return verdict


def _classify(x: np.ndarray) -> MelVerdict:
    low, on_floor = _floor_evidence(x)
    high = float(x.max())
    floored = on_floor >= 5e-5 and np.count_nonzero(x <= low + 1e-6 * max(1.0, abs(low))) >= 3
    above = x[x > low + 1e-6 * max(1.0, abs(low))] if floored else x.ravel()
    spread = _spread(above)
    frame_level = x.mean(axis=0)
    dynamics = _spread(frame_level) if frame_level.size > 1 else 0.0
    ev = {"min": low, "max": high, "on_floor": on_floor, "spread": spread, "dynamics": dynamics}

    def verdict(name: str, confidence: float, detail: str = "") -> MelVerdict:
        return MelVerdict(name, confidence, evidence=ev, detail=detail)

    if low >= 0.0:
        return _linear(x, high, ev)
    if abs(high - 4.0) < 1e-5 and abs(low + 4.0) < 1e-5:
        return verdict("minmax4", 0.9, "touches -4 and 4 exactly")
    if abs(high) < 1e-5 and low < -20.0:
        clip = " (clipped at top_db 80)" if floored and abs(low + 80.0) < 1e-3 else ""
        return verdict("db-ref", 0.9, "maximum exactly 0 dB" + clip)
    mean, std = float(x.mean()), float(x.std())
    if abs(mean) < 0.6 and 0.5 < std < 2.0 and high > 1.0 and low < -1.0 and np.abs(x.mean(axis=1)).max() < 2.5:
        ev.update(mean=mean, std=std)
        return verdict("meanstd", 0.7, "mean ~0, std ~1")
    return _log(ev, floored)


def _log(ev: dict[str, float], floored: bool) -> MelVerdict:
    """Choose among the log conventions (natural, log10, power, dB) by floor, maximum and spread."""
    low, high, spread, dynamics = ev["min"], ev["max"], ev["spread"], ev["dynamics"]
    scales = {name: CONVENTIONS[name].scale for name in LOG_HYPOTHESES}
    if floored and abs(low - OFFICIAL_FLOOR) < 1e-4 and spread <= MAX_NATS - OFFICIAL_FLOOR:
        return MelVerdict("official", 0.99, evidence=ev, detail="floor exactly ln(1e-5)")
    if floored and abs(high - low - 80.0) < 1e-3 and high * scales["db"] <= MAX_NATS:
        return MelVerdict("db", 0.85, evidence=ev, detail="clipped at top_db 80 (values below it are lost)")
    feasible: dict[str, str] = {}
    for name, a in scales.items():
        if a * high > MAX_NATS or a * spread > MAX_SPREAD:
            continue
        if floored:
            amp = _round_floor(a * low)
            if amp is None:
                continue
            feasible[name] = f"floor {amp:.0e}" if name in ("official", "log10", "db") else f"power floor {amp**2:.0e}"
        elif a * low >= math.log(1e-12):
            feasible[name] = ""
    if not feasible:
        return MelVerdict("unknown", 0.0, evidence=ev, detail="no log convention fits the floor, maximum and spread")

    def typical(name: str) -> float:  # distance of the official-domain spread from speech's, in log ratio
        return abs(math.log(max(scales[name] * spread, 1e-9) / SPEECH_CENTRE))

    def in_band(name: str) -> bool:
        return SPEECH_SPREAD[0] <= scales[name] * spread <= SPEECH_SPREAD[1]

    ranked = sorted(feasible, key=typical)
    best = ranked[0]
    if not floored and "official" in feasible and low >= OFFICIAL_FLOOR - 1e-4:
        # Within the official range: flag another convention only when it reads as speech and official cannot.
        if best == "official" or in_band("official") or not in_band(best) or dynamics * scales[best] < 1.5:
            conf = 0.95 if in_band("official") else 0.75
            return MelVerdict("official", conf, evidence=ev, detail="within the official range")
    margin = typical(ranked[1]) - typical(best) if len(ranked) > 1 else 1.0
    if margin < 0.04:
        return MelVerdict("unknown", 0.3, evidence=ev, detail=f"{best} or {ranked[1]} (spread {spread:.3g})")
    name = "ln-floor" if best == "official" else best
    detail = feasible[best] or ("values below ln(1e-5)" if name == "ln-floor" else "")
    if name == "ln-floor" and detail == "floor 1e-05":
        name = "official"
    conf = (0.9 if floored else 0.6) if in_band(best) else 0.5
    return MelVerdict(name, min(conf, 0.5 + margin), evidence=ev, detail=detail)


def _linear(x: np.ndarray, high: float, ev: dict[str, float]) -> MelVerdict:
    """Non-negative values: min-max [0, 1], or a linear magnitude or power mel (no log)."""
    low = ev["min"]
    if low < 1e-6 and abs(high - 1.0) < 1e-6:
        return MelVerdict("minmax01", 0.85, evidence=ev, detail="touches 0 and 1 exactly")
    positive = x[x > 0]
    if positive.size < 2:
        return MelVerdict("unknown", 0.0, evidence=ev, detail="all values zero")
    logs = np.log(positive)
    spread = _spread(logs)
    ev["log_spread"] = spread
    mag_ok = math.log(high) <= MAX_NATS
    s_mag, s_pow = spread, spread / 2
    in_band = [SPEECH_SPREAD[0] <= s <= SPEECH_SPREAD[1] for s in (s_mag, s_pow)]
    if mag_ok and in_band[0] and not in_band[1]:
        return MelVerdict("linear-magnitude", 0.8, evidence=ev, detail="non-negative, log spread of a magnitude")
    if (in_band[1] and not in_band[0]) or not mag_ok:
        return MelVerdict("linear-power", 0.8, evidence=ev, detail="non-negative, log spread of a power")
    return MelVerdict("unknown", 0.3, evidence=ev, detail="non-negative (linear?), magnitude or power unclear")


def detect_file(path: Path, num_mels: int) -> MelVerdict:
    """Load a .npy mel (either orientation) and judge it; a MelError for what cannot be a mel at all."""
    from hifigan.audio import load_mel

    try:
        mel = load_mel(path, num_mels)
        verdict = detect(mel, num_mels)
    except MelError as first:
        try:
            mel = load_mel(path, num_mels, transposed=True)
        except MelError:
            raise first from None
        verdict = detect(mel, num_mels)
        verdict.transposed = True
    return verdict
