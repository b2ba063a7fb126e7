"""Checks of one argument or config value: a ValueError that names it and what it must be, so a bad value reads as
one line (the config prefixes its file, the training builder the part's config key)."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any


def integer(name: str, value: Any, minimum: int) -> int:
    """`value` as an int >= minimum (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def integers(name: str, values: Any, minimum: int) -> tuple[int, ...]:
    """A non-empty list or tuple of ints >= minimum, as a tuple."""
    if not isinstance(values, list | tuple) or not values:
        raise ValueError(f"{name} must be a non-empty list of integers >= {minimum}, got {values!r}")
    return tuple(integer(f"{name}[{i}]", v, minimum) for i, v in enumerate(values))


def number(name: str, value: Any, low: float, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False) -> float:
    """`value` as a finite float in the interval from `low` to `high` (None: no upper end), each end closed unless
    said open (bools and strings refused)."""
    ok = not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high))
    if not ok:
        if high is None:
            where = f"{'>' if low_open else '>='} {low:g}"
        else:
            where = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a number {where}, got {value!r}")
    return float(value)
