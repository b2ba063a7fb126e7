"""The summary statistic every report uses: a mean with its 95% Student-t confidence interval.

Kept apart from the metrics so that light users (the listening test's server) need no torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass
class MetricSummary:
    """Mean of one metric over the files with a defined value, and its 95% t-interval (None for n < 2)."""

    mean: float | None
    std: float | None
    ci95_low: float | None
    ci95_high: float | None
    n: int
    n_undefined: int


def summarize(values: Iterable[float]) -> MetricSummary:
    """Mean, sample std and 95% CI mean +- t(0.975, n-1) s / sqrt(n) of the finite values; NaNs are counted apart."""
    from scipy.stats import t

    values = np.asarray(list(values), dtype=np.float64)
    finite = values[np.isfinite(values)]
    n = len(finite)
    if n == 0:
        return MetricSummary(None, None, None, None, 0, len(values))
    mean = float(finite.mean())
    if n < 2:
        return MetricSummary(mean, None, None, None, 1, len(values) - 1)
    std = float(finite.std(ddof=1))
    half = float(t.ppf(0.975, n - 1) * std / math.sqrt(n))
    return MetricSummary(mean, std, mean - half, mean + half, n, len(values) - n)
