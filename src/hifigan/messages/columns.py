"""Rows of cells as a plain-text table of fixed-width columns, as `hifigan bench`, `configs` and `pretrained` print
them: names left-aligned, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Container


def aligned(rows: list[list[str]], left: Container[int] = (0,)) -> list[str]:
    """Rows of cells as lines of fixed-width columns: the `left` columns (names) left-aligned, the others (numbers)
    right-aligned, two spaces between."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
            for row in rows]
