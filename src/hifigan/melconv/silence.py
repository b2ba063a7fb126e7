"""Digital silence under an epsilon on the power spectrum: a front-end that takes |X| = sqrt(max(|X|^2, e)) (ESPnet2's
LogMelFbank, e = 1e-10) or sqrt(|X|^2 + e) (the official 1e-9; VITS's 1e-6) gives every STFT bin of silence the
magnitude sqrt(e), so the mel of silence is sqrt(e) times each filterbank row's sum: a level per bin, above the log's
floor and no round power of ten. Its shape is the filterbank's, so a model's basis recognises it, and only in the
convention (the scale) the mel is in: read at another scale, the rows' differences would be scaled too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from hifigan.melconv.conventions import CONVENTIONS

if TYPE_CHECKING:
    from hifigan.melconv.model import ModelMel

TOLERANCE_NATS = 1e-4  # float32 mels of silence match the basis to ~1e-6 nats; the rows' sums differ by up to 3e-2
MIN_FRAMES = 2  # silent frames needed (each one matches every bin)
ROUND_EPS = 2e-3  # how far log10(e) may lie from an integer (float32 rounding of the level)


BLOCK_FRAMES = 2048  # frames judged at a time: the check's memory is a block's, not the mel's (an audiobook's)


def silence_epsilon(x: np.ndarray, scale: float, row_sums: np.ndarray, floor_nats: float) -> float | None:
    """[bins, T] mel `x` whose ln M is `scale` * x (the mel read in its convention), the filterbank's row sums [bins]
    and the log's floor in nats of M -> the epsilon e (a round power of ten) on |X|^2 whose digital silence at least
    MIN_FRAMES frames show: ln max(sqrt(e) row_sum, floor) in every bin, at least half of them above the floor; None
    where no frame does. Judged BLOCK_FRAMES frames at a time."""
    if x.ndim != 2 or x.shape[0] != row_sums.size or x.shape[0] < 2:
        return None
    profile = np.log(row_sums)[:, None]
    levels = [level for start in range(0, x.shape[1], BLOCK_FRAMES)
              for level in _silent_levels(scale * x[:, start:start + BLOCK_FRAMES], profile, floor_nats)]
    if len(levels) < MIN_FRAMES:
        return None
    levels = np.asarray(levels)
    lowest = levels[levels < levels.min() + TOLERANCE_NATS]  # the quietest frames: silence, not a click's flat top
    if lowest.size < MIN_FRAMES:
        return None
    k = 2.0 * float(lowest.mean()) / math.log(10.0)
    if abs(k - round(k)) > ROUND_EPS:
        return None
    return 10.0 ** round(k)


def _silent_levels(nats: np.ndarray, profile: np.ndarray, floor_nats: float) -> np.ndarray:
    """ln sqrt(e) of each frame of `nats` [bins, frames] that is silence on the filterbank's level (see
    silence_epsilon)."""
    level = (nats - profile).min(axis=0)  # per frame: ln sqrt(e) if it is silence
    expected = np.maximum(level[None, :] + profile, floor_nats)
    fits = np.abs(nats - expected).max(axis=0) < TOLERANCE_NATS
    fits &= (level[None, :] + profile > floor_nats + TOLERANCE_NATS).mean(axis=0) >= 0.5  # not just a flat floor
    return level[fits]


def model_silence_epsilon(x: np.ndarray, model: ModelMel | None) -> float | None:
    """`silence_epsilon` of a [num_mels, T] float64 mel read in `model`'s own log convention, on its filterbank; None
    without a model, for a normalising or linear one, or for mels of another bin count (check-mel --num-mels)."""
    if model is None or model.stats is not None or x.shape[0] != model.num_mels:
        return None
    conv = CONVENTIONS[model.convention]
    row_sums = model.row_sums if conv.log is not None else None
    if row_sums is None or row_sums.size != x.shape[0]:
        return None
    return silence_epsilon(x, conv.scale, row_sums, math.log(model.floor) / conv.power)
