"""The summary statistics of an evaluation (hifigan.evaluation.results.aggregate, confidence.summarize): mean,
Student-t interval and the undefined values counted apart, and the refusals of rows that cannot be summarised."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.config import load_config
from hifigan.evaluation.confidence import summarize
from hifigan.evaluation.metrics import compute_metrics
from hifigan.evaluation.results import Report, aggregate
from tests.support.signals import speechlike, with_noise_at_snr

CONFIG = load_config("v1")
UNBOUNDED = (-math.inf, math.inf)  # no metric's range: an interval never clipped


def test_the_table_counts_the_undefined_values_apart():
    """One NaN among four SNRs: the mean and interval of the other three (t(0.975, 2) = 4.3027, s = 10), and the
    NaN counted after n."""
    table = Report([], aggregate([{"snr": 10.0}, {"snr": math.nan}, {"snr": 20.0}, {"snr": 30.0}])).format_table()
    assert table.splitlines()[-1] == (f"{'SNR (dB)':<22} {'higher':>6} {'20.0000':>10} {'[-4.8414, 44.8414]':>23} "
                                      f"{3:>5} (1 undefined)")


def test_aggregate_refuses_a_row_without_a_metric_another_row_gives():
    """An undefined value is given (NaN, an `Undefined`, a JSON null read back) and counted; a metric absent from a
    row is refused, naming the row and the metric, whichever row lacks it (so n cannot differ between metrics
    silently)."""
    summary = aggregate([{"mel_l1": 1.0, "snr": 2.0}, {"mel_l1": 1.5, "snr": math.nan}, {"mel_l1": 2.0, "snr": None}])
    assert (summary["mel_l1"].n, summary["snr"].n, summary["snr"].n_undefined) == (3, 1, 2)
    cases = [([{"mel_l1": 1.0, "snr": 2.0}, {"mel_l1": 1.5}], None, "row 1 has no 'snr' metric"),
             ([{"mel_l1": 1.0}, {"mel_l1": 1.5, "snr": 2.0}], None, "row 0 has no 'snr' metric"),
             ([{"snr": 1.0}, {"snr": 2.0}], ["snr", "pesq"], "row 0 has no 'pesq' metric")]
    for rows, names, message in cases:
        with pytest.raises(ValueError) as info:
            aggregate(rows, names)
        assert str(info.value) == (f"aggregate: {message} (every row gives every metric summarised; an undefined "
                                   "value is NaN, not left out)")


def test_aggregate_refuses_a_value_that_is_not_a_number_naming_the_row_and_metric():
    """A string or a list was numpy's bare TypeError ('must be real number, not str'), naming neither."""
    for value, said in (("x", "str 'x'"), ([1.0], "list [1.0]")):
        with pytest.raises(ValueError) as info:
            aggregate([{"snr": 1.0}, {"snr": value}])
        assert str(info.value) == (f"aggregate: row 1's 'snr' is {said}, not a number (an undefined value is NaN or "
                                   "None)")
    assert aggregate([{"snr": np.float32(2.0)}, {"snr": 4}])["snr"].mean == 3.0  # numpy's floats and ints are numbers


def test_summary_uses_the_t_distribution():
    s = summarize([1.0, 2.0, 3.0, float("nan")], bounds=UNBOUNDED)
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, df=2) * s / sqrt(n), s = 1
    assert (s.mean, s.std, s.n, s.n_undefined) == (2.0, 1.0, 3, 1)
    assert (s.ci95_low, s.ci95_high) == (pytest.approx(2.0 - half), pytest.approx(2.0 + half))
    one = summarize([5.0], bounds=UNBOUNDED)
    assert (one.mean, one.ci95_low, one.n) == (5.0, None, 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30))
def test_summary_interval_is_centred_and_contains_the_mean(values):
    s = summarize(values, bounds=UNBOUNDED)  # unbounded: never clipped
    assert s.n == len(values) and s.mean == pytest.approx(np.mean(values), abs=1e-9)
    assert s.ci95_low <= s.mean <= s.ci95_high
    assert (s.mean - s.ci95_low) == pytest.approx(s.ci95_high - s.mean, abs=1e-6)


def test_aggregate_of_compute_metrics_rows():
    """The training demo's path: compute_metrics per clip, then aggregate."""
    x = speechlike(1.0)
    rows = [compute_metrics(x, with_noise_at_snr(x, snr_db, 0), CONFIG, ["snr", "mel_l1"]) for snr_db in (10, 20, 30)]
    summary = aggregate(rows)
    assert list(summary) == ["mel_l1", "snr"]
    assert summary["snr"].mean == pytest.approx(20.0, abs=1e-3)
