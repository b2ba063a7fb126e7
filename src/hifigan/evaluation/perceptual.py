"""Waveform and perceptual metrics: SNR, wide-band PESQ, STOI and ESTOI."""

from __future__ import annotations

import math
import warnings

import numpy as np

from hifigan.evaluation.signals import Signal, as_numpy

SNR_CAP_DB = 100.0  # identical signals would give +inf; 100 dB is above the 16-bit quantisation floor (~98 dB)
PESQ_RATE = 16000  # wide-band PESQ (ITU-T P.862.2) is defined at 16 kHz


def snr(reference: Signal, generated: Signal) -> float:
    """Signal-to-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2), capped at SNR_CAP_DB (identical -> cap).

    Sample-exact: it measures phase as well as magnitude, so a vocoder's (inaudible) phase changes lower it.
    NaN for a silent reference.
    """
    x = as_numpy(reference).astype(np.float64)
    y = as_numpy(generated).astype(np.float64)
    n = min(len(x), len(y))
    signal, noise = np.sum(x[:n] ** 2), np.sum((x[:n] - y[:n]) ** 2)
    if signal == 0:
        return math.nan
    if noise == 0:
        return SNR_CAP_DB
    return float(min(SNR_CAP_DB, 10.0 * np.log10(signal / noise)))


def pesq_wb(reference: Signal, generated: Signal, sampling_rate: int) -> float:
    """Wide-band PESQ, MOS-LQO (ITU-T P.862.2; `pesq` package, mode 'wb'); 4.64 for identical speech.

    Both signals are resampled to 16 kHz with soxr (hifigan.audio.resample_audio). NaN when PESQ finds no
    utterance, the signal is too short, or either signal is digital silence.
    """
    from pesq import PesqError, pesq

    from hifigan.audio import resample_audio

    ref, gen = as_numpy(reference), as_numpy(generated)
    if not ref.any() or not gen.any():  # the pesq package divides by the peak and fails on digital silence
        return math.nan
    if sampling_rate != PESQ_RATE:
        ref, gen = resample_audio(ref, sampling_rate, PESQ_RATE), resample_audio(gen, sampling_rate, PESQ_RATE)
    try:
        return float(pesq(PESQ_RATE, ref, gen, "wb"))
    except PesqError:
        return math.nan


def stoi(reference: Signal, generated: Signal, sampling_rate: int, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al., IEEE TASLP 2011), or with `extended` ESTOI (Jensen &
    Taal, IEEE TASLP 2016); `pystoi`, which resamples to 10 kHz itself. 1 for identical signals.

    NaN for a silent reference or when fewer than 30 non-silent 25.6 ms frames remain (pystoi would return 1e-5).
    """
    from pystoi import stoi as _stoi

    ref = as_numpy(reference)
    if not ref.any():
        return math.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(ref, as_numpy(generated), sampling_rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return math.nan
    return value


def estoi(reference: Signal, generated: Signal, sampling_rate: int) -> float:
    """Extended STOI (Jensen & Taal, 2016), see `stoi`."""
    return stoi(reference, generated, sampling_rate, extended=True)

