"""A mel normalised by a model's own per-bin statistics, told from an un-normalised one by its bins' levels and
spreads rather than by its values.

A change of level (a quieter recording, another microphone or speaker) adds about one number c to every bin of a
log mel, and a fixed filter one number per bin; neither changes how far a bin moves over the frames. So read as
un-normalised, a mel's bins should have the statistics' mean up to one offset and their std up to one factor;
read as normalised, the same with mean 0 and std 1. Whichever reading leaves the smaller misfit says which the
mel is. The values alone (mean ~0, std ~1) say only that the clip is at the level of the statistics' corpus: the
normalised mel of a clip 12 dB quieter lies several units lower and reads as a plausible log mel.
"""

from __future__ import annotations

import numpy as np

from hifigan.melconv.conventions import MelStats

NORMALISED_FIT = 0.5  # the normalised reading must leave at most half the un-normalised one's misfit


def normalised_fit(x: np.ndarray, stats: MelStats) -> float | None:
    """[bins, T] float64 mel -> how much better it fits `stats` read as normalised than as un-normalised: the
    normalised reading's misfit over the other's, for the bins' mean levels (spread over the bins after one
    common offset) times that for their stds (log ratios after one common factor); below NORMALISED_FIT it is
    normalised. None where the statistics cannot tell the readings apart (the same in every bin) or do not
    match the bins."""
    if stats.mean is None or stats.std is None or {np.size(stats.mean), np.size(stats.std)} - {1, x.shape[0]}:
        return None
    mean, std = np.broadcast_to(stats.mean, (x.shape[0],)), np.broadcast_to(stats.std, (x.shape[0],))
    if np.ptp(mean) == 0 and np.ptp(std) == 0:
        return None
    level = x.mean(axis=1)
    levels = np.std(level * std) / max(np.std(level - mean), 1e-12)  # normalised: level * std + mean - mean
    spread = x.std(axis=1)
    moving = spread > 0  # a bin on its floor throughout has no spread to compare
    if np.count_nonzero(moving) < 2:
        return float(levels)
    log_spread = np.log(spread[moving])
    spreads = np.std(log_spread) / max(np.std(log_spread - np.log(std[moving])), 1e-12)
    return float(levels * spreads)


def denormalised(x: np.ndarray, stats: MelStats) -> np.ndarray:
    """[bins, T] normalised mel -> the log mel it was normalised from: x * std + mean per bin."""
    return x * np.asarray(stats.std).reshape(-1, 1) + np.asarray(stats.mean).reshape(-1, 1)
