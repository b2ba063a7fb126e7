"""Counts in words: a number and the noun (or verb) that agrees with it, "1 file" / "2 files", and a size in bytes
("512 bytes", "18 KB", "1.8 MB"), in every message."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun in agreement: count(1, "file") is "1 file", count(2, "file") "2 files" (0 too); `plural` where
    adding "s" is wrong: count(2, "stimulus", "stimuli")."""
    return f"{n} {agree(n, noun, plural)}"


def agree(n: int, singular: str, plural: str | None = None) -> str:
    """The word that agrees with a count of `n`: `singular` for 1, else `plural` (default: `singular` + "s"); verbs
    too: agree(n, "is", "are"), agree(n, "differs", "differ")."""
    if n == 1:
        return singular
    return singular + "s" if plural is None else plural


SIZE_UNITS = ("KB", "MB", "GB", "TB")  # decimal: 1 KB is 1000 bytes


def byte_size(n: int) -> str:
    """A size of `n` bytes as one reads it: bytes below 1000, else the largest decimal unit that keeps the value
    below 1000, to 0.1 below 100 ("1 byte", "512 bytes", "1.5 KB", "18.0 KB", "55.8 MB", "104 MB")."""
    if n < 1000:
        return count(n, "byte")
    power = 1  # the unit's: 1000**power bytes; the last unit takes what is left
    while power < len(SIZE_UNITS) and float(_digits(n / 1000**power)) >= 1000:
        power += 1
    return f"{_digits(n / 1000**power)} {SIZE_UNITS[power - 1]}"


def _digits(value: float) -> str:
    """A value of 1 or more to 0.1 below 100, whole from 100 ("1.5", "18.0", "104")."""
    return f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
