"""Counts in words: a number and the noun (or verb) that agrees with it, "1 file" / "2 files", a size in bytes
("512 bytes", "18 KB", "1.8 MB") and a length of audio ("7.9 s", "12.5 min", "24.0 h"), in every message; and a
value's type with its article ("a dict", "an int"); the first few of a list ("a, b, c, ...")."""

from __future__ import annotations

from collections.abc import Sequence


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


def first_few(items: Sequence[str], shown: int = 3) -> str:
    """The first `shown` of `items` joined by commas, ', ...' after them where there are more."""
    return ", ".join(items[:shown]) + (", ..." if len(items) > shown else "")


def a_type(value: object) -> str:
    """The type of `value` as a message names what it got: "a dict", "an int", "an OrderedDict"."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


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


def audio_length(seconds: float) -> str:
    """A length of audio as one reads it: seconds below a minute, minutes below an hour, else hours, each to 0.1
    below 100 ("0.5 s", "59.9 s", "1.0 min", "12.5 min", "24.0 h", "1250 h")."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size - size / 1200:  # 0.05 of the unit below it (59.95 s) rounds up to 1.0 of it: said in it
            return f"{_digits(max(seconds / size, 1.0))} {unit}"
    return f"{seconds:.1f} s"


def _digits(value: float) -> str:
    """A value of 1 or more to 0.1 below 100, whole from 100 ("1.5", "18.0", "104")."""
    return f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
