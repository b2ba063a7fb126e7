"""A band-limited mel: its top bins far below all the others, as in the mel of audio resampled up from a lower rate
in floating point (22.05 kHz speech at 24, 44.1 or 48 kHz keeps only rounding noise above 11.025 kHz, 1e-10 to
1e-8 in magnitude). Such a band widens the spread of the values without saying anything about their scale, so
detect weighs the spread of the bins below it too, and where the band decides between two conventions it says so.

A full-band spectrum falls at most about 5 nats over 4 bins into its top bins (bundled speech at 16 to 48 kHz,
16-bit audio whose quantisation noise fills the band above the old Nyquist included); a dead band falls 9 to 11.
"""

from __future__ import annotations

import numpy as np

DEAD_CLIFF_NATS = 7.0  # a drop at least this deep (in nats of M) into the top bins is a band limit, not a spectrum
CLIFF_WIDTH = 4  # bins the drop may take: the resampler's transition band spans several narrow mel bins
MAX_BAND_SHARE = 0.4  # the most of the bins a dead band may take (11.025 kHz of 24 kHz: 19% of 256 bins)


def dead_band(logs: np.ndarray) -> tuple[int, float]:
    """[bins, T] log-domain values (any base or gain) -> (k, depth): the top k bins whose median values lie below
    every lower bin's median, and how far below the highest of the CLIFF_WIDTH bins under them, in the values' own
    units (the deepest such drop; k then takes every top bin below the middle of it); (0, 0.0) when none."""
    med = np.median(logs, axis=1)
    n = med.size
    top_max = np.maximum.accumulate(med[::-1])[::-1]  # top_max[i]: the highest median of bins i..n-1
    low_min = np.minimum.accumulate(med)  # low_min[i]: the lowest median of bins 0..i
    depth, start = 0.0, n
    for i in range(max(1, n - int(n * MAX_BAND_SHARE)), n):
        if top_max[i] < low_min[i - 1]:
            drop = float(med[max(0, i - CLIFF_WIDTH):i].max() - top_max[i])
            if drop > depth:
                depth, start = drop, i
    if start == n:
        return 0, 0.0
    middle = med[max(0, start - CLIFF_WIDTH):start].max() - depth / 2
    k = 0
    while k < n - 1 and med[n - 1 - k] < middle:
        k += 1
    return k, depth
