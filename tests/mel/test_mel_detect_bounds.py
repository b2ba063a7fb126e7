"""detect's thresholds, each from both sides: the floors it takes as exact, the power-of-ten floors it recognises,
the largest official value and spread, the min-max ranges and the linear magnitude's maximum. Synthetic mels (uniform
values with frames on a floor), so each case is one cheap call."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hifigan.melconv import detect
from hifigan.melconv.conventions import OFFICIAL_FLOOR
from hifigan.melconv.model import ModelMel


def uniform(low: float, high: float) -> np.ndarray:
    """An [80, 40] mel of values uniform in [low, high] (seeded)."""
    return np.random.default_rng(0).uniform(low, high, size=(80, 40))


def floored(floor: float, low: float, high: float) -> np.ndarray:
    """uniform(low, high) with its first 5 frames exactly on `floor`."""
    x = uniform(low, high)
    x[:, :5] = floor
    return x


@pytest.mark.parametrize(("offset", "confidence", "detail"), [
    *((offset, 0.99, "floor exactly ln(1e-5)") for offset in (0.0, 7e-5, -7e-5)),
    (1.4e-4, 0.9, "floor 1e-05"), (-1.4e-4, 0.9, "floor 1e-05"),
])
def test_the_official_floor_is_exact_within_1e_4_nats(offset, confidence, detail):
    """Within 1e-4 nats of ln(1e-5) the floor is the official one exactly; a little further, a round floor 1e-5."""
    verdict = detect(floored(OFFICIAL_FLOOR + offset, -9.0, -1.0))
    assert (verdict.convention, verdict.confidence, verdict.detail) == ("official", confidence, detail), verdict.line()


@pytest.mark.parametrize(("decades", "low", "convention", "detail"), [
    (-7.0, -14.0, "ln-floor", "floor 1e-07"), (-7.0015, -14.0, "ln-floor", "floor 1e-07"),
    (-6.9985, -14.0, "ln-floor", "floor 1e-07"), (-7.0025, -14.0, "unknown", None), (-6.9975, -14.0, "unknown", None),
    (-5.0015, -9.0, "official", "floor 1e-05"), (-4.9975, -9.0, "unknown", None),
    (-3.0, -6.0, "ln-floor", "floor 1e-03"), (-2.0, -4.0, "unknown", None),
])
def test_a_floor_is_a_power_of_ten_within_2e_3_decades_and_at_most_1e_3(decades, low, convention, detail):
    """A natural-log mel floored at 10^decades: a round floor within 0.002 decades of a power of ten <= 1e-3;
    further off, or 1e-2 (a level speech reaches), no log convention fits."""
    verdict = detect(floored(decades * math.log(10), low, 2.0 if decades > -4 else -1.0))
    assert verdict.convention == convention, verdict.line()
    assert detail is None or verdict.detail == detail, verdict.line()


@pytest.mark.parametrize(("offset", "convention"), [(5e-4, "log10"), (-5e-4, "log10"), (2e-3, "unknown"),
                                                  (-2e-3, "unknown")])
def test_the_models_own_floor_is_exact_within_1e_4_relative(offset, convention):
    """A log10 model floored at 3e-11 (no round power of ten): a mel on log10(3e-11) = -10.52 within 1e-4 relative
    (1e-3) is on the model's floor; 2e-3 off, on no floor any convention has."""
    model = ModelMel("log10", 3e-11, None, 80, 22050, 256)
    verdict = detect(floored(math.log10(3e-11) + offset, -6.0, -0.5), 80, model)
    assert verdict.convention == convention, verdict.line()
    assert (verdict.detail == "floor exactly the model's") == (convention == "log10")


def test_values_within_float32_rounding_of_the_minimum_are_on_the_floor():
    """1e-6 relative: 5e-6 nats above ln(1e-5) is on it, 5e-5 above is not."""
    x = floored(OFFICIAL_FLOOR, -9.0, -1.0)  # 5 of 40 frames on the floor
    x[:, 5], x[:, 6] = OFFICIAL_FLOOR + 5e-6, OFFICIAL_FLOOR + 5e-5
    verdict = detect(x)
    assert verdict.official and verdict.evidence["on_floor"] == 6 / 40


@pytest.mark.parametrize(("high", "convention"), [(4.4, "official"), (4.6, "ln-power")])
def test_an_official_mel_reaches_at_most_4_5_nats(high, convention):
    """No floor: values up to 4.4 nats are official ones; 4.6 is more than audio in [-1, 1] gives."""
    assert detect(uniform(-9.0, high)).convention == convention


@pytest.mark.parametrize(("high", "convention"), [(4.4, "official"), (4.6, "unknown")])
def test_values_on_the_official_floor_reach_at_most_4_5_nats(high, convention):
    """On ln(1e-5) exactly, the values above it reach at most 4.5 nats, as without a floor: 4.4 is official, 4.6 no
    convention (a natural log of a mel of the power spectrum, floored at 1e-5)."""
    assert detect(floored(OFFICIAL_FLOOR, -11.4, high)).convention == convention


def test_touching_4_alone_is_no_min_max_mel():
    """minmax4 touches both -4 and 4; values in [-9, 4] reaching 4 exactly are an official mel."""
    x = uniform(-9.0, 4.0)
    x[0, 0] = 4.0
    assert detect(x).convention == "official"


@pytest.mark.parametrize(("top", "convention"), [(1.0, "minmax01"), (0.995, "linear-magnitude")])
def test_min_max_01_touches_1_exactly(top, convention):
    """A linear magnitude mel with a zero: scaled to a maximum of exactly 1 it reads as min-max [0, 1]; 0.995 not."""
    x = np.exp(uniform(-9.0, 0.0))
    x[0, 0] = 0.0
    assert detect(x * (top / x.max())).convention == convention


@pytest.mark.parametrize(("high", "convention"), [(4.3, "linear-magnitude"), (4.7, "linear-power")])
def test_a_linear_magnitude_mel_reaches_at_most_4_5_nats(high, convention):
    """exp(uniform(-4, high)): a magnitude's log spread (8.1 to 8.5 nats); a maximum above e^4.5 (90) is a power."""
    assert detect(np.exp(uniform(-4.0, high))).convention == convention


@pytest.mark.parametrize(("frames", "value", "convention", "detail"), [
    (2, 20 * math.log10(1e-5), "db", "floor 1e-05"),  # -100: log10 or log10-power of a 1e-100 floor, before
    (3, 20 * math.log10(1e-12), "db", "floor 1e-12"),
    (3, math.log10(1e-5), "log10", "floor 1e-05"),
    (3, OFFICIAL_FLOOR, "official", "floor exactly ln(1e-5)"),
])
def test_a_short_silent_mel_reads_as_its_floor_no_lower_than_1e_12(frames, value, convention, detail):
    """A mel of 2 or 3 frames all on one floor (silence: no spread to weigh) reads as the convention whose floor it
    is; a floor below 1e-12 amplitude (log10 at -100) is no candidate."""
    verdict = detect(np.full((80, frames), value, np.float32))
    assert (verdict.convention, verdict.detail, verdict.transposed) == (convention, detail, False)
