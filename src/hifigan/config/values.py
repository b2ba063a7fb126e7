"""Checks of one argument or config value: a ValueError that names it and what it must be, so a bad value reads as
one line (the config prefixes its file, the training builder the part's config key). The one owner of a count's and
a range's rule and its words, `NAME must be an integer >= 1, got 0`: the command line's options say it too
(cli.common.Count and Amount, through argparse: `argument --threads: must be an integer >= 1, got 0`)."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any


def integer_problem(value: Any, minimum: int, maximum: int | None = None, why: str = "") -> str | None:
    """What is wrong with `value` as an int from `minimum` to `maximum` (None: no upper end), `must be ..., got ...`
    (`why`, e.g. ` (the clips the demo vocodes)`, after the rule), or None when it is one (bools and floats are not)."""
    if (not isinstance(value, bool) and isinstance(value, Integral) and value >= minimum
            and (maximum is None or value <= maximum)):
        return None
    rule = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    return f"must be an integer {rule}{why}, got {value!r}"


def number_problem(value: Any, low: float, high: float | None = None, *, low_open: bool = False,
                   high_open: bool = False, why: str = "", inf: bool = False) -> str | None:
    """What is wrong with `value` as a finite float from `low` to `high` (None: no upper end), each end closed
    unless said open (`inf`: infinity taken too, as no bound), `must be ..., got ...` (`why` after the rule), or None
    when it is one (bools and strings are not)."""
    ok = not isinstance(value, bool) and isinstance(value, Real) and (
        math.isfinite(value) or (inf and value == math.inf))
    if ok:
        ok = (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high))
    if ok:
        return None
    if high is None:
        where = f"{'>' if low_open else '>='} {low:g}"
    else:
        where = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    return f"must be a number {where}{' or inf' if inf else ''}{why}, got {value!r}"


def integer(name: str, value: Any, minimum: int, maximum: int | None = None, why: str = "") -> int:
    """`value` as an int >= minimum (and <= maximum where given; bools and floats refused)."""
    if (problem := integer_problem(value, minimum, maximum, why)) is not None:
        raise ValueError(f"{name} {problem}")
    return int(value)


def integers(name: str, values: Any, minimum: int) -> tuple[int, ...]:
    """A non-empty list or tuple of ints >= minimum, as a tuple."""
    if not isinstance(values, list | tuple) or not values:
        raise ValueError(f"{name} must be a non-empty list of integers >= {minimum}, got {values!r}")
    return tuple(integer(f"{name}[{i}]", v, minimum) for i, v in enumerate(values))


def number(name: str, value: Any, low: float, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False, why: str = "", inf: bool = False) -> float:
    """`value` as a finite float in the interval from `low` to `high` (None: no upper end), each end closed unless
    said open (`inf`: infinity taken too; bools and strings refused)."""
    if (problem := number_problem(value, low, high, low_open=low_open, high_open=high_open, why=why,
                                  inf=inf)) is not None:
        raise ValueError(f"{name} {problem}")
    return float(value)
