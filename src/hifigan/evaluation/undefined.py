"""A metric value that is undefined for a pair, and why: `Undefined` is a NaN float (so means, tables and JSON treat
it as any NaN) that carries its cause, which reports count and name ("PESQ (wb) undefined for 2 files: the generated
audio is digital silence").

No torch here: the listening test's server imports the summary statistics (hifigan.evaluation.confidence).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

# Causes several metrics share (each metric's own are written where it decides)
SILENT_REFERENCE = "the recording is digital silence"
SILENT_GENERATED = "the generated audio is digital silence"
OVERFLOW = "not finite: the arithmetic overflowed (samples far beyond ±1)"
NO_CAUSE = "undefined (no cause recorded)"  # a NaN from elsewhere (a caller's own rows)


class Undefined(float):
    """NaN with the reason the metric is undefined for this pair (`reason`, a phrase such as SILENT_REFERENCE)."""

    reason: str

    def __new__(cls, reason: str) -> Undefined:
        value = super().__new__(cls, math.nan)
        value.reason = reason
        return value

    def __reduce__(self) -> tuple[type[Undefined], tuple[str]]:  # pickled to and from worker processes, deep-copied
        return Undefined, (self.reason,)

    def __repr__(self) -> str:
        return f"Undefined({self.reason!r})"


def undefined_reason(value: float | None) -> str | None:
    """Why `value` is not a number to average (None: it is one): an Undefined's reason, NO_CAUSE for another NaN
    or None, OVERFLOW for an infinity."""
    if value is None:
        return NO_CAUSE
    if math.isfinite(value):
        return None
    if isinstance(value, Undefined):
        return value.reason
    return NO_CAUSE if math.isnan(value) else OVERFLOW


def as_defined(value: float) -> float:
    """`value` as a report keeps it: a finite value or an Undefined; an infinity or a NaN from the arithmetic
    (float32 overflow of huge samples) becomes an Undefined saying so."""
    if math.isfinite(value) or isinstance(value, Undefined):
        return value
    return Undefined(OVERFLOW)


def count_causes(values: Iterable[float | None]) -> dict[str, int]:
    """How many of `values` are undefined for each cause, most frequent first."""
    causes = Counter(reason for reason in map(undefined_reason, values) if reason is not None)
    return dict(causes.most_common())
