"""Counts in words: a number and the noun (or verb) that agrees with it, "1 file" / "2 files", in every message."""

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
