"""The listening test's MOS report (hifigan.evaluation.listening.mos) by hand: each system's mean and t interval,
the reference screening (at its threshold too), and the per-clip MOS."""

from __future__ import annotations

import math

import pytest

from hifigan.evaluation.listening.mos import markdown, mos_report


def test_mos_and_its_t_interval_by_hand():
    ratings = [("a", "reference", "c1", 5), ("a", "v1", "c1", 4), ("b", "reference", "c1", 5),
               ("b", "v1", "c1", 4), ("a", "v1", "c2", 3), ("b", "v1", "c2", 5), ("c", "reference", "c1", 2),
               ("c", "v1", "c1", 1)]
    report = mos_report(ratings, ["reference", "v1"])
    v1 = report.systems[1]
    # v1: 4, 4, 3, 5, 1 -> mean 3.4, s^2 = (0.36+0.36+0.16+2.56+5.76)/4 = 2.3, t(0.975, 4) = 2.7764451051977987
    assert v1.mos == pytest.approx(3.4, abs=1e-12)
    assert v1.ci95 == pytest.approx(2.7764451051977987 * math.sqrt(2.3 / 5), abs=1e-12)
    assert (v1.ratings, v1.raters, v1.clips) == (5, 3, 2)
    assert f"| v1 | 3.40 (±{v1.ci95:.2f}) | 5 | 3 | 2 |" in markdown(report)
    screened = mos_report(ratings, ["reference", "v1"], screen_reference_below=4)
    assert [r.rater for r in screened.raters if r.excluded] == ["c"]
    assert screened.systems[1].ratings == 4 and screened.systems[1].mos == pytest.approx(4.0, abs=1e-12)
    assert screened.systems[0].ci95 == 0.0  # 5, 5: no spread, s = 0 -> an interval of width 0
    assert "screening: 1 of 3 raters excluded" in markdown(screened)
    # per clip: v1 on c1 is 4, 4, 1 (3.0) and on c2 3, 5 (4.0); without c, c1's is 4, 4
    assert (report.clips["c1"]["v1"].mos, report.clips["c2"]["v1"].mos) == (3.0, 4.0)
    assert screened.clips["c1"]["v1"].mos == 4.0 and screened.clips["c1"]["v1"].ratings == 2
    # screening reads each rater's mean on the hidden reference alone, and keeps one exactly at the threshold:
    # d rates everything 5 but the reference 3 (overall 4.5); e rates the reference 4, 4 (mean 4.0 = the threshold)
    more = [*ratings, ("d", "reference", "c1", 3), ("d", "v1", "c1", 5), ("d", "v1", "c2", 5), ("d", "v1", "c1", 5),
            ("e", "reference", "c1", 4), ("e", "reference", "c2", 4), ("e", "v1", "c1", 1)]
    raters = {r.rater: r for r in mos_report(more, ["reference", "v1"], screen_reference_below=4).raters}
    assert {name: (r.reference_mean, r.excluded) for name, r in raters.items()} == {
        "a": (5.0, False), "b": (5.0, False), "c": (2.0, True), "d": (3.0, True), "e": (4.0, False)}
    assert raters["d"].mean == 4.5
