"""Which convention a mel follows, from its values alone: floor, range, level spread and temporal dynamics.

Every log convention is a scaled natural-log mel (official = scale * value), so each hypothesis is judged in the
official domain: its floor must be a round power of ten, its maximum must be one real audio can give (<= 4.5 nats:
a full-scale sine reaches about 2.3), and its spread must be one a mel can have. Values exactly at a floor are the
strongest evidence; without a floor, a spread typical of speech decides only when the official reading is
implausible, so official mels of noise or tones are not flagged.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hifigan.errors import MelError
from hifigan.melconv.bands import DEAD_CLIFF_NATS, dead_band
from hifigan.melconv.conventions import (
    CONVENTIONS,
    LN10,
    OFFICIAL_FLOOR,
    OFFICIAL_FLOOR_TEXT,
    OFFICIAL_MAGNITUDE_FLOOR,
)
from hifigan.melconv.normalised import NORMALISED_FIT, denormalised, normalised_fit
from hifigan.melconv.silence import model_silence_epsilon
from hifigan.melconv.verdict import MelVerdict

if TYPE_CHECKING:
    from hifigan.melconv.model import ModelMel

MAX_NATS = 4.5  # above any official mel of audio in [-1, 1]
MAX_SPREAD = MAX_NATS - math.log(1e-12)  # widest official-domain range with the lowest floor we recognise
SPEECH_SPREAD = (5.5, 14.0)  # p1..p99 of the non-floor values of speech, in nats, at any level
SPEECH_CENTRE = 8.8  # its typical value (bundled clips, 0 to -40 dBFS)
LOG_HYPOTHESES = ("official", "log10", "ln-power", "log10-power", "db")


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


def detect(mel: np.ndarray, num_mels: int = 80, model: ModelMel | None = None) -> MelVerdict:
    """[num_mels, T] (or [T, num_mels], or [1, num_mels, T]) mel -> MelVerdict, judged against `model`'s convention
    (default official): where the values fit it and another convention equally, it is the model's. Costs a few
    passes over the values."""
    x = np.asarray(mel)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.floating) or x.size == 0 or not np.isfinite(x).all():
        raise ValueError("expected a finite floating-point mel of shape [num_mels, frames]")
    transposed = x.shape[0] != num_mels and x.shape[1] == num_mels
    if transposed:
        x = x.T
    x = x.astype(np.float64, copy=False)
    verdict = _classify(x, model)
    if model is not None and model.stats is not None and verdict.convention != "meanstd":
        verdict = _own_normalised(x, model, verdict.evidence) or verdict
    verdict.transposed = transposed
    verdict.expected = ("official",) if model is None else model.expected
    return verdict


def _own_normalised(x: np.ndarray, model: ModelMel, evidence: dict[str, float]) -> MelVerdict | None:
    """A meanstd verdict where `x`'s bins fit the model's statistics as normalised values far better than as a log
    mel (hifigan.melconv.normalised) and, denormalised by them, it is the model's own log mel; else None.
    `evidence`: the numbers of `x`'s values, to which the fit is added."""
    fit = normalised_fit(x, model.stats)
    if fit is None or fit >= NORMALISED_FIT:
        return None
    plain = model.unnormalised
    inner = _classify(denormalised(x, model.stats), plain)
    if inner.convention not in plain.expected:
        return None
    detail = f"its bins fit the model's mel_stats; denormalised: {inner.convention} ({inner.detail})"
    return MelVerdict("meanstd", inner.confidence, evidence={**evidence, "normalised_fit": fit}, detail=detail)


def _prior(model: ModelMel | None) -> tuple[str, str, float]:
    """(verdict name, log hypothesis, floor in the convention's units) of the model's own un-normalised log mels."""
    if model is None or model.convention == "official":
        return "official", "official", OFFICIAL_FLOOR
    conv = CONVENTIONS[model.convention]
    if conv.log is None:
        return model.convention, model.convention, 0.0
    hypothesis = "official" if model.convention == "ln-floor" else model.convention
    return model.convention, hypothesis, math.log(model.floor) / (conv.scale * conv.power)


def _classify(x: np.ndarray, model: ModelMel | None) -> MelVerdict:
    low, on_floor = _floor_evidence(x)
    high = float(x.max())
    floored = on_floor >= 5e-5 and np.count_nonzero(x <= low + 1e-6 * max(1.0, abs(low))) >= 3
    above = x[x > low + 1e-6 * max(1.0, abs(low))] if floored else x.ravel()
    spread = _spread(above)
    frame_level = x.mean(axis=0)
    dynamics = _spread(frame_level) if frame_level.size > 1 else 0.0
    ev = {"min": low, "max": high, "on_floor": on_floor, "spread": spread, "dynamics": dynamics}
    if low < 0.0:
        _band_evidence(x, x > low + 1e-6 * max(1.0, abs(low)) if floored else None, ev)
        at_floor = floored and min(abs(low - OFFICIAL_FLOOR), abs(low - _prior(model)[2])) < 1e-4 * max(1.0, -low)
        if not at_floor and (eps := model_silence_epsilon(x, model)) is not None:  # the filterbank costs ~1 s
            ev["silence_eps"] = eps

    def verdict(name: str, confidence: float, detail: str = "") -> MelVerdict:
        return MelVerdict(name, confidence, evidence=ev, detail=detail)

    if low >= 0.0:
        found = _linear(x, high, ev)
        if found.convention == "unknown" and _prior(model)[0] in ("linear-magnitude", "linear-power"):
            return verdict(_prior(model)[0], 0.5, "non-negative, as the model's")
        return found
    if abs(high - 4.0) < 1e-5 and abs(low + 4.0) < 1e-5:
        return verdict("minmax4", 0.9, "touches -4 and 4 exactly")
    if floored and abs(low + 4.0) < 1e-5 and high < 4.0:  # no log mel floors at 1e-4; Coqui's clip_norm does
        return verdict("minmax4", 0.6, "clipped at -4 exactly, nothing above 4: Coqui TTS's symmetric signal_norm?")
    if abs(high) < 1e-5 and low < -20.0:
        clip = " (clipped at top_db 80)" if floored and abs(low + 80.0) < 1e-3 else ""
        return verdict("db-ref", 0.9, "maximum exactly 0 dB" + clip)
    mean, std = float(x.mean()), float(x.std())
    if abs(mean) < 0.6 and 0.5 < std < 2.0 and high > 1.0 and low < -1.0 and np.abs(x.mean(axis=1)).max() < 2.5:
        ev.update(mean=mean, std=std)
        return verdict("meanstd", 0.7, "mean ~0, std ~1")
    return _log(ev, floored, _prior(model))


def _band_evidence(logs: np.ndarray, keep: np.ndarray | None, ev: dict[str, float]) -> None:
    """Add a dead top band's size (dead_bins), depth in the values' units (cliff) and the spread of the values
    below it (live_spread; `keep`: the values to count, None for all) to `ev`; nothing when there is none."""
    k, depth = dead_band(logs)
    if k:
        below = logs[:-k] if keep is None else logs[:-k][keep[:-k]]
        ev.update(dead_bins=k, cliff=depth, live_spread=_spread(below))


def _band_limited(ev: dict[str, float], scale: float) -> bool:
    """Read at `scale` nats per unit, the mel's top bins are a dead band (bands.dead_band) rather than quiet
    content."""
    return scale * ev.get("cliff", 0.0) >= DEAD_CLIFF_NATS


def _band_split(ev: dict[str, float], readable: list[str], scales: dict[str, float]) -> str | None:
    """'A or B (...)' where a reading that takes the top bins as a dead band and one that takes them as quiet
    content both give a spread of speech (`readable`, best first): the values cannot tell them apart."""
    dead = [name for name in readable if _band_limited(ev, scales[name])]
    live = [name for name in readable if not _band_limited(ev, scales[name])]
    if not dead or not live:
        return None
    first, second = (dead[0], live[0]) if readable.index(dead[0]) < readable.index(live[0]) else (live[0], dead[0])
    return f"{first} or {second}: the top {ev['dead_bins']:.0f} bins lie far below the rest (band-limited audio?)"


def _log(ev: dict[str, float], floored: bool, prior: tuple[str, str, float]) -> MelVerdict:
    """Choose among the log conventions (natural, log10, power, dB) by floor, maximum and spread; `prior`: the
    model's (_prior), chosen where the values fit it as well as the best."""
    low, high, spread, dynamics = ev["min"], ev["max"], ev["spread"], ev["dynamics"]
    scales = {name: CONVENTIONS[name].scale for name in LOG_HYPOTHESES}
    own, prefer, own_floor = prior
    if floored and abs(low - OFFICIAL_FLOOR) < 1e-4:
        if high <= MAX_NATS:
            return MelVerdict("official", 0.99, evidence=ev, detail=f"floor exactly ln({OFFICIAL_FLOOR_TEXT})")
        # No log convention has this floor and such a maximum; librosa's melspectrogram (power=2.0) under a
        # natural log clamped at 1e-5 does: the filterbank on |X|^2, which no map turns into the official mel.
        return MelVerdict("unknown", 0.5, evidence=ev, detail=f"floor exactly ln({OFFICIAL_FLOOR_TEXT}), but a "
                          f"maximum above the {MAX_NATS:g} nats audio in [-1, 1] reaches: a mel of the power "
                          "spectrum (power=2.0)?")
    at_own = own != "official" and floored and abs(low - own_floor) < 1e-4 * max(1.0, abs(own_floor))
    if prefer in scales and (at_own or "silence_eps" in ev) and scales[prefer] * high <= MAX_NATS:
        detail = "floor exactly the model's" if at_own else (
            f"silence on the filterbank's level of an epsilon {ev['silence_eps']:.0e} on |X|^2")
        return MelVerdict(own, 0.95, evidence=ev, detail=detail)
    if floored and abs(high - low - 80.0) < 1e-3 and high * scales["db"] <= MAX_NATS:
        return MelVerdict("db", 0.85, evidence=ev, detail="clipped at top_db 80 (values below it are lost)")
    def spread_of(name: str) -> float:  # the spread below a dead top band where this reading has one
        return ev["live_spread"] if _band_limited(ev, scales[name]) else spread

    feasible: dict[str, str] = {}
    for name, a in scales.items():
        if a * high > MAX_NATS or a * spread_of(name) > MAX_SPREAD:
            continue
        if floored:
            amp = _round_floor(a * low)
            if amp is None or amp < 1e-12:  # below the lowest floor recognised (MAX_SPREAD): dB -100 is no 1e-100
                continue
            feasible[name] = f"floor {amp:.0e}" if name in ("official", "log10", "db") else f"power floor {amp**2:.0e}"
        elif a * low >= math.log(1e-12):
            feasible[name] = ""
    if not feasible:
        return MelVerdict("unknown", 0.0, evidence=ev, detail="no log convention fits the floor, maximum and spread")

    def typical(name: str) -> float:  # distance of the official-domain spread from speech's, in log ratio
        return abs(math.log(max(scales[name] * spread_of(name), 1e-9) / SPEECH_CENTRE))

    def in_band(name: str) -> bool:
        return SPEECH_SPREAD[0] <= scales[name] * spread_of(name) <= SPEECH_SPREAD[1]

    def shown(name: str) -> str:  # an official reading with values below its floor is an ln-floor one
        return "ln-floor" if name == "official" and low < OFFICIAL_FLOOR - 1e-4 else name

    ranked = sorted(feasible, key=typical)
    best = ranked[0]
    readable = [shown(name) for name in ranked if in_band(name)]
    split = _band_split(ev, readable, scales | {"ln-floor": scales["official"]})
    if split:
        return MelVerdict("unknown", 0.3, evidence=ev, detail=split)
    if not floored and prefer in feasible and low >= own_floor - 1e-4 * max(1.0, abs(own_floor)):
        # Within the model's range: flag another convention only when it reads as speech and the model's cannot.
        if best == prefer or in_band(prefer) or not in_band(best) or dynamics * scales[best] < 1.5:
            conf = 0.95 if in_band(prefer) else 0.75
            where = "the official range" if own == "official" else "the model's range"
            return MelVerdict(own, conf, evidence=ev, detail=f"within {where}")
    margin = typical(ranked[1]) - typical(best) if len(ranked) > 1 else 1.0
    if margin < 0.04:
        either = f"{shown(best)} or {shown(ranked[1])}"
        return MelVerdict("unknown", 0.3, evidence=ev, detail=f"{either} (spread {spread:.3g})")
    name, detail = best, feasible[best]
    if best == "official" and not detail:  # no floor: official unless values lie below its floor
        below = low < OFFICIAL_FLOOR - 1e-4
        name, detail = (("ln-floor", f"values below ln({OFFICIAL_FLOOR_TEXT})") if below
                        else ("official", "within the official range"))
    elif best == "official" and _round_floor(scales["official"] * low) != OFFICIAL_MAGNITUDE_FLOOR:
        name = "ln-floor"
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
    spread = _spread(np.log(positive))
    ev["log_spread"] = spread
    _band_evidence(np.log(np.maximum(x, positive.min())), x > 0, ev)
    scales = {"linear-magnitude": 1.0, "linear-power": 0.5}
    s_mag, s_pow = (scale * (ev["live_spread"] if _band_limited(ev, scale) else spread) for scale in scales.values())
    mag_ok = math.log(high) <= MAX_NATS
    in_band = [SPEECH_SPREAD[0] <= s <= SPEECH_SPREAD[1] for s in (s_mag, s_pow)]
    split = _band_split(ev, [name for name, ok in zip(scales, in_band, strict=True) if ok], scales) if mag_ok else None
    if split:
        return MelVerdict("unknown", 0.3, evidence=ev, detail=split)
    if mag_ok and in_band[0] and not in_band[1]:
        return MelVerdict("linear-magnitude", 0.8, evidence=ev, detail="non-negative, log spread of a magnitude")
    if (in_band[1] and not in_band[0]) or not mag_ok:
        return MelVerdict("linear-power", 0.8, evidence=ev, detail="non-negative, log spread of a power")
    return MelVerdict("unknown", 0.3, evidence=ev, detail="non-negative (linear?), magnitude or power unclear")


def detect_file(path: Path, num_mels: int, model: ModelMel | None = None) -> MelVerdict:
    """Load a .npy mel (either orientation) and judge it against `model`'s convention; a MelError for what cannot
    be a mel at all."""
    from hifigan.mel_file import load_mel

    try:
        mel = load_mel(path, num_mels)
        verdict = detect(mel, num_mels, model)
    except MelError as first:
        try:
            mel = load_mel(path, num_mels, transposed=True)
        except MelError:
            raise first from None
        verdict = judged_transposed(mel, num_mels, model)
    return verdict


def judged_transposed(mel: np.ndarray, num_mels: int, model: ModelMel | None = None) -> MelVerdict:
    """The verdict of a file's mel read as [frames, num_mels] (`mel`: so read, [num_mels, T]): check-mel's for such a
    file, and what vocode and train name where they fail on its bins (hifigan.melconv.vocode_input)."""
    verdict = detect(mel, num_mels, model)
    verdict.transposed = True
    return verdict
