"""95% intervals stay inside each metric's range: clipped by hand (a MOS at the top of the scale, a STOI set near 1,
a distance near 0, PESQ at its band's top), PESQ's top as the pesq package returns it, and any summary in bounds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.evaluation.confidence import summarize
from hifigan.evaluation.listening.mos import markdown, mos_report, write_report
from hifigan.evaluation.metrics import METRICS, metric_bounds
from hifigan.evaluation.perceptual import pesq_lqo, pesq_mos, pesq_range
from hifigan.evaluation.results import aggregate
from tests.support.signals import speechlike, with_noise_at_snr

T2 = 4.302652729749462  # t(0.975, df=2)


def test_mos_of_5_5_4_is_clipped_at_5_and_keeps_the_papers_form(tmp_path):
    ratings = [("a", "v1", "c1", 5), ("b", "v1", "c1", 5), ("c", "v1", "c1", 4),
               ("a", "v2", "c1", 1), ("b", "v2", "c1", 1), ("c", "v2", "c1", 2)]
    report = mos_report(ratings, ["v1", "v2"])
    v1, v2 = report.systems
    half = T2 * math.sqrt(1 / 3) / math.sqrt(3)  # s^2 = (1/9 + 1/9 + 4/9) / 2 = 1/3: 1.4342, past 5 and below 1
    assert (v1.mos, v1.ci95) == (pytest.approx(14 / 3, abs=1e-12), pytest.approx(half, abs=1e-12))
    assert (v1.ci95_low, v1.ci95_high) == (pytest.approx(14 / 3 - half, abs=1e-12), 5.0)
    assert (v2.ci95_low, v2.ci95_high) == (1.0, pytest.approx(4 / 3 + half, abs=1e-12))
    table = markdown(report)
    assert "| v1 | 4.67 (±1.43) | 3 | 3 | 1 |" in table and "clipped to the 1–5 scale" in table
    _, js = write_report(tmp_path, report)
    saved = json.loads(js.read_text())["systems"]
    assert (saved[0]["ci95"], saved[0]["ci95_high"], saved[1]["ci95_low"]) == (pytest.approx(half), 5.0, 1.0)


def test_metric_intervals_are_clipped_by_hand():
    stoi = [0.99, 1.0, 0.97]  # mean 0.98667, s = 0.015275: mean + half = 1.0246
    mel = [0.01, 0.02, 0.2]  # mean 0.07667, s = 0.10693: mean - half = -0.189
    pesq = [4.548638343811035, 4.548638343811035, 3.9]  # mean + half = 5.26, past either band's top
    rows = [{"mel_l1": m, "pesq": p, "stoi": s} for m, p, s in zip(mel, pesq, stoi)]
    for rate, top in ((8000, 4.548638343811035), (22050, 4.643888473510742)):
        summary = aggregate(rows, sampling_rate=rate)
        s = summary["stoi"]
        assert s.mean == pytest.approx(np.mean(stoi)) and s.ci95_high == 1.0
        assert s.ci95_low == pytest.approx(np.mean(stoi) - T2 * np.std(stoi, ddof=1) / math.sqrt(3), abs=1e-12)
        m = summary["mel_l1"]
        assert m.ci95_low == 0.0 and m.ci95_high == pytest.approx(np.mean(mel) + m.ci95_half, abs=1e-12)
        assert m.ci95_half == pytest.approx(T2 * np.std(mel, ddof=1) / math.sqrt(3), abs=1e-12)
        assert summary["pesq"].ci95_high == top and summary["pesq"].mean == pytest.approx(np.mean(pesq))


@pytest.mark.parametrize("rate, mode", [(16000, "wb"), (8000, "nb")])
def test_pesq_range_is_what_the_package_returns(rate, mode):
    """Identical speech scores exactly the top; a pulsed tone in noise scores below ITU's mapping of raw -0.5 (the
    package does not floor the raw score there), so the floor is the mapping's own, 0.999 (in float32)."""
    x = speechlike(3.0, sr=rate)
    low, top = pesq_range(rate)
    assert pesq_mos(x, x, rate) == top == pesq_lqo(4.5, mode)
    t = np.arange(3 * rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 150 * t) * np.sin(2 * np.pi * 3 * t) ** 2).astype(np.float32)
    noisy = pesq_mos(tone, with_noise_at_snr(tone, -10.0, 0).astype(np.float32), rate)
    assert low == float(np.float32(0.999)) and low < noisy < pesq_lqo(-0.5, mode)


@st.composite
def metric_values(draw):
    name = draw(st.sampled_from(list(METRICS)))
    rate = draw(st.sampled_from([None, 8000, 16000, 22050]))
    low, high = metric_bounds(name, rate)
    values = draw(st.lists(st.floats(max(low, -1e3), min(high, 1e3)), min_size=2, max_size=20))
    return name, rate, values


@settings(max_examples=100, deadline=None)
@given(metric_values())
def test_any_interval_lies_in_the_metrics_range_and_holds_the_mean(case):
    name, rate, values = case
    low, high = metric_bounds(name, rate)
    s = summarize(values, bounds=(low, high))
    assert low <= s.ci95_low <= s.mean <= s.ci95_high <= high
    if low <= s.mean - s.ci95_half and s.mean + s.ci95_half <= high:  # inside the range: not clipped
        assert (s.ci95_low, s.ci95_high) == (s.mean - s.ci95_half, s.mean + s.ci95_half)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=30))
def test_any_mos_interval_lies_on_the_scale(scores):
    m = mos_report([(f"r{i}", "v", "c", score) for i, score in enumerate(scores)], ["v"]).systems[0]
    assert 1.0 <= m.ci95_low <= m.mos <= m.ci95_high <= 5.0


def test_a_mean_an_ulp_past_a_bound_stays_inside_its_interval():
    """Six 0.1s average to 0.09999999999999999 and three to 0.10000000000000002: clipped at 0.1, the interval would
    leave out its own mean, so its end is the mean instead."""
    below = summarize([0.1] * 6, bounds=(0.1, 1.0))
    above = summarize([0.1] * 3, bounds=(0.0, 0.1))
    assert below.mean < 0.1 < above.mean
    assert below.ci95_low == below.mean and above.ci95_high == above.mean
    assert below.ci95_high >= below.mean and above.ci95_low <= above.mean


def test_stoi_and_estoi_intervals_may_go_below_zero():
    """pystoi's STOI and ESTOI can be negative (uncorrelated envelopes): their intervals are clipped at -1, not 0."""
    values = [0.02, -0.05, 0.1]
    summary = aggregate([{"stoi": v, "estoi": v} for v in values])
    half = T2 * np.std(values, ddof=1) / math.sqrt(3)
    for s in summary.values():
        assert s.ci95_low == pytest.approx(np.mean(values) - half, abs=1e-12) and s.ci95_low < 0
