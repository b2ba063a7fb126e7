"""Checks of a part's constructor arguments: a ValueError that names the argument and what it must be, so a
config's bad value reads as one line (the training builder prefixes the part's config key)."""

from __future__ import annotations

from numbers import Integral
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
