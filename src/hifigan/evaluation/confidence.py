"""The summary statistic every report uses: a mean with its 95% Student-t confidence interval, clipped to the range
the metric can take (an interval past the scale, a STOI above 1 or a distance below 0, reads as a bug).

Kept apart from the metrics so that light users (the listening test's server) need no torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from hifigan.evaluation.undefined import count_causes


@dataclass
class MetricSummary:
    """Mean of one metric over the files with a defined value, and its 95% t-interval (None for n < 2):
    [ci95_low, ci95_high] is mean ± ci95_half clipped to the metric's range, so it may be asymmetric."""

    mean: float | None
    std: float | None
    ci95_low: float | None
    ci95_high: float | None
    n: int
    n_undefined: int
    ci95_half: float | None = None  # t(0.975, n-1) s / sqrt(n), the half-width before clipping
    undefined_causes: dict[str, int] = field(default_factory=dict)  # n_undefined by cause (undefined.Undefined)


def summarize(values: Iterable[float], *, bounds: tuple[float, float]) -> MetricSummary:
    """Mean, sample std and 95% CI mean ± t(0.975, n-1) s / sqrt(n) of the finite values, the interval clipped to
    `bounds` (the metric's [lowest, highest] value; the mean is not changed); the others are counted apart, by
    cause (`undefined_causes`)."""
    from scipy.stats import t

    given = list(values)
    causes = count_causes(given)
    values = np.asarray(given, dtype=np.float64)
    finite = values[np.isfinite(values)]
    n = len(finite)
    if n == 0:
        return MetricSummary(None, None, None, None, 0, len(values), undefined_causes=causes)
    mean = float(finite.mean())
    if n < 2:
        return MetricSummary(mean, None, None, None, 1, len(values) - 1, undefined_causes=causes)
    std = float(finite.std(ddof=1))
    half = float(t.ppf(0.975, n - 1) * std / math.sqrt(n))
    # min/max with the mean: a mean of values all at a bound can round one ulp past it; the interval still holds it
    low, high = min(mean, max(bounds[0], mean - half)), max(mean, min(bounds[1], mean + half))
    return MetricSummary(mean, std, low, high, n, len(values) - n, half, causes)
