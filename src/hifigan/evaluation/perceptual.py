"""Waveform and perceptual metrics: SNR, PESQ (wide-band, or narrow-band below 16 kHz), STOI and ESTOI."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from hifigan.evaluation.signals import Signal, as_numpy
from hifigan.evaluation.undefined import OVERFLOW, SILENT_GENERATED, SILENT_REFERENCE, Undefined
from hifigan.runtime.extras import optional_import

SNR_CAP_DB = 100.0  # identical signals would give +inf; 100 dB is above the 16-bit quantisation floor (~98 dB)
# The PESQ versions ITU defines, highest rate first: (the rate it is defined at, `pesq` mode, name). Audio at or
# above a version's rate is measured with it, downsampled; wide-band P.862.2 needs 16 kHz (below that the audio
# holds no wide band), narrow-band P.862 (MOS-LQO by P.862.1) 8 kHz; below 8 kHz neither is defined.
PESQ_BANDS: tuple[tuple[int, str, str], ...] = (
    (16000, "wb", "ITU-T P.862.2 wide-band"),
    (8000, "nb", "ITU-T P.862 narrow-band, P.862.1 MOS-LQO"),
)
# MOS-LQO = 0.999 + 4 / (1 + exp(-a x + b)) of the raw score x (P.862.1 narrow-band, P.862.2 wide-band): (a, b) by
# `pesq` mode. The pesq package (0.0.4) computes it in float32 from x = 4.5 - 0.1 d - 0.0309 a (d, a >= 0), which it
# does not floor at ITU's -0.5: its MOS-LQO lies in [0.999, the mapping of 4.5] (4.5486 nb, 4.6439 wb).
PESQ_LQO_MAPPING: dict[str, tuple[float, float]] = {"nb": (1.4945, 4.6607), "wb": (1.3669, 3.8224)}
PESQ_LQO_FLOOR = 0.999  # the mapping's floor (x -> -inf)
PESQ_RAW_MAX = 4.5  # no disturbance: identical signals
FLOAT32_SQUARE_MAX = math.sqrt(float(np.finfo(np.float32).max))  # above this (~1.8e19) a sample's float32 square is inf


def snr(reference: Signal, generated: Signal) -> float:
    """Signal-to-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2), capped at SNR_CAP_DB (identical -> cap).

    Sample-exact: it measures phase as well as magnitude, so a vocoder's (inaudible) phase changes lower it.
    Undefined (NaN) for a silent reference.
    """
    x = as_numpy(reference).astype(np.float64)
    y = as_numpy(generated).astype(np.float64)
    n = min(len(x), len(y))
    signal, noise = np.sum(x[:n] ** 2), np.sum((x[:n] - y[:n]) ** 2)
    if signal == 0:
        return Undefined(SILENT_REFERENCE)
    if noise == 0:
        return SNR_CAP_DB
    return float(min(SNR_CAP_DB, 10.0 * np.log10(signal / noise)))


def pesq_band(sampling_rate: int) -> tuple[int, str, str] | None:
    """The PESQ for audio at `sampling_rate`: (rate it is measured at, `pesq` mode, name); None below 8 kHz."""
    return next((band for band in PESQ_BANDS if sampling_rate >= band[0]), None)


def pesq_title(sampling_rate: int) -> str:
    """The PESQ column's title at this rate: "PESQ (wb)", "PESQ (nb)", or "PESQ" where it is undefined."""
    band = pesq_band(sampling_rate)
    return "PESQ" if band is None else f"PESQ ({band[1]})"


def pesq_lqo(raw: float, mode: str) -> float:
    """The raw PESQ score mapped to MOS-LQO in `mode` ("nb", "wb"), in float32 as the pesq package maps it."""
    a, b = (np.float32(v) for v in PESQ_LQO_MAPPING[mode])
    e = np.float32(math.exp(float(-a * np.float32(raw) + b)))
    return float(np.float32(PESQ_LQO_FLOOR) + np.float32(4.0) / (np.float32(1.0) + e))


def pesq_range(sampling_rate: int | None = None) -> tuple[float, float]:
    """[lowest, highest] PESQ MOS-LQO the pesq package returns at this rate (unknown or undefined: either band)."""
    band = None if sampling_rate is None else pesq_band(sampling_rate)
    modes = list(PESQ_LQO_MAPPING) if band is None else [band[1]]
    return float(np.float32(PESQ_LQO_FLOOR)), max(pesq_lqo(PESQ_RAW_MAX, mode) for mode in modes)


def pesq_mos(reference: Signal, generated: Signal, sampling_rate: int) -> float:
    """PESQ MOS-LQO (`pesq` package) as `pesq_band` chooses it: wide-band at 16 kHz for audio at 16 kHz or more
    (4.64 for identical speech), narrow-band at 8 kHz for 8 to 16 kHz (4.55 for identical speech).

    Both signals are resampled to that rate with soxr (hifigan.audio.resample_audio). Undefined (NaN, with its
    cause) below 8 kHz, when either signal is digital silence, shorter than 1/4 s, or PESQ finds no utterance;
    where PESQ fails on samples whose squares overflow its float32 (far beyond ±1), the cause is that overflow.
    """
    from hifigan.audio import resample_audio

    pesq = optional_import("pesq", "the PESQ metric")
    band = pesq_band(sampling_rate)
    ref, gen = as_numpy(reference), as_numpy(generated)
    if band is None:
        return Undefined("PESQ is not defined below 8 kHz")
    if not ref.any():
        return Undefined(SILENT_REFERENCE)
    if not gen.any():  # the pesq package fails on it (a ValueError converting NaN): ITU's level alignment needs a level
        return Undefined(SILENT_GENERATED)
    rate, mode, _ = band
    overflows = any(np.abs(x).max() > FLOAT32_SQUARE_MAX for x in (ref, gen))
    if sampling_rate != rate:
        ref, gen = resample_audio(ref, sampling_rate, rate), resample_audio(gen, sampling_rate, rate)
    try:
        return float(pesq.pesq(rate, ref, gen, mode))
    except pesq.BufferTooShortError:
        return Undefined("shorter than PESQ's 1/4 s")
    except (pesq.PesqError, ValueError) as e:  # its level alignment and VAD square in float32
        return Undefined(OVERFLOW if overflows else _pesq_failure(e, pesq))


def _pesq_failure(error: Exception, pesq: Any) -> str:
    """Why the pesq package failed on a pair whose samples are within float32's squares."""
    if isinstance(error, pesq.NoUtterancesError):
        return "PESQ finds no utterance"
    if isinstance(error, ValueError):  # its level alignment divides by a power float32 rounds to 0 (below ~1e-22)
        return "the generated audio is too quiet for PESQ to level (near digital silence)"
    return f"PESQ fails: {error}"


STOI_RATE = 10000  # pystoi resamples both signals to 10 kHz and measures STOI and ESTOI there (its 256-sample frame)
# pystoi drops the frames more than 40 dB below the loudest and needs 30 (N, its intelligibility window) left
TOO_LITTLE_SPEECH = "too little audio for STOI: fewer than 30 frames within 40 dB of the loudest"
ESTOI_SEED = 0  # the seed of the noise pystoi's ESTOI draws (utils.row_col_normalize)


def stoi(reference: Signal, generated: Signal, sampling_rate: int, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al., IEEE TASLP 2011), or with `extended` ESTOI (Jensen &
    Taal, IEEE TASLP 2016); `pystoi`, which resamples to 10 kHz itself. 1 for identical signals.

    Undefined (NaN) for a silent reference or when fewer than 30 non-silent 25.6 ms frames remain (pystoi would
    return 1e-5).
    """
    pystoi = optional_import("pystoi", "the STOI and ESTOI metrics")
    ref = as_numpy(reference)
    if not ref.any():
        return Undefined(SILENT_REFERENCE)
    state = np.random.get_state()  # ESTOI adds eps-sized noise from numpy's global generator: a fixed draw, so
    np.random.seed(ESTOI_SEED)  # a pair's value is the same bits whatever ran before it, the caller's stream intact
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = float(pystoi.stoi(ref, as_numpy(generated), sampling_rate, extended=extended))
    finally:
        np.random.set_state(state)
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return Undefined(TOO_LITTLE_SPEECH)
    return value


def estoi(reference: Signal, generated: Signal, sampling_rate: int) -> float:
    """Extended STOI (Jensen & Taal, 2016), see `stoi`."""
    return stoi(reference, generated, sampling_rate, extended=True)

