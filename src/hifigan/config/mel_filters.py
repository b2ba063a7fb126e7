"""Which mel filters of a geometry are empty: no FFT bin falls inside the filter's triangle, so its row of the Slaney
filterbank (hifigan.melconv.filterbank, librosa's) is all zeros and its mel bin is the floor whatever the audio
(librosa only warns). The triangles' edges are librosa's Slaney mel scale (linear below 1 kHz, logarithmic above),
computed here with numpy in librosa's own arithmetic, so that a config is checked at load without importing
librosa (~1 s); tests/config/test_empty_mel_filters.py holds them to librosa's filterbank."""

from __future__ import annotations

import math

HZ_PER_MEL = 200.0 / 3  # the Slaney scale's linear part
LOG_HZ = 1000.0  # where its logarithmic part starts
LOG_MEL = LOG_HZ / HZ_PER_MEL
LOG_STEP = math.log(6.4) / 27.0  # nats of Hz per mel in the logarithmic part
NAMED = 6  # empty filters named in a refusal; the rest counted
MAX_DOUBLINGS = 6  # the largest n_fft a refusal looks at: n_fft * 2**6


def empty_filters(sampling_rate: int, n_fft: int, num_mels: int, fmin: float, fmax: float | None) -> list[int]:
    """The indices of the filters of librosa.filters.mel(sr=sampling_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin,
    fmax=fmax) whose row is all zeros (fmax None: sampling_rate / 2)."""
    import numpy as np

    top = sampling_rate / 2 if fmax is None else fmax
    low, high = (np.asarray(float(hz)) for hz in (fmin, top))
    low, high = (hz / HZ_PER_MEL if hz < LOG_HZ else LOG_MEL + np.log(hz / LOG_HZ) / LOG_STEP for hz in (low, high))
    mels = np.linspace(low, high, num_mels + 2)
    edges = HZ_PER_MEL * mels
    logarithmic = mels >= LOG_MEL
    edges[logarithmic] = LOG_HZ * np.exp(LOG_STEP * (mels[logarithmic] - LOG_MEL))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sampling_rate)
    widths = np.diff(edges)
    rising = (bins - edges[:-2, None]) / widths[:-1, None]
    falling = (edges[2:, None] - bins) / widths[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling)).astype(np.float32)  # librosa's dtype
    return np.flatnonzero(weights.max(axis=1) == 0).tolist()


def empty_filters_problem(sampling_rate: int, n_fft: int, num_mels: int, fmin: float, fmax: float | None) -> str:
    """'' when every filter has a bin, else one sentence naming the empty filters and what to change: the most
    filters this band and n_fft fill, the n_fft that fills these (doubled up to MAX_DOUBLINGS times), a wider band
    (said only where 0 to sampling_rate / 2 fills them)."""
    empty = empty_filters(sampling_rate, n_fft, num_mels, fmin, fmax)
    if not empty:
        return ""
    named = ", ".join(str(i) for i in empty[:NAMED]) + (f" and {len(empty) - NAMED} more" if len(empty) > NAMED else "")
    fixes = []
    fewer = next((m for m in range(num_mels - 1, 0, -1) if not empty_filters(sampling_rate, n_fft, m, fmin, fmax)), 0)
    if fewer:
        fixes.append(f"num_mels {fewer}")
    wider = next((n_fft << k for k in range(1, MAX_DOUBLINGS + 1)
                  if not empty_filters(sampling_rate, n_fft << k, num_mels, fmin, fmax)), 0)
    if wider:
        fixes.append(f"n_fft {wider}")
    top = sampling_rate / 2 if fmax is None else fmax
    if (fmin > 0 or top < sampling_rate / 2) and not empty_filters(sampling_rate, n_fft, num_mels, 0, None):
        fixes.append(f"a wider band than fmin {fmin:g} to fmax {top:g} Hz")  # the widest, 0 to Nyquist, fills them
    one = len(empty) == 1
    them, bins = ("it", "its mel bin is") if one else ("them", "their mel bins are")
    return (f"{len(empty)} of the {num_mels} mel filters {'is' if one else 'are'} empty (filter{'' if one else 's'} "
            f"{named}): no FFT bin falls inside {them} (the bins are {sampling_rate / n_fft:g} Hz apart at n_fft "
            f"{n_fft}, sampling_rate {sampling_rate}), so {bins} the floor whatever the audio; use "
            f"{' or '.join(fixes) if fixes else 'fewer mel filters'}")
