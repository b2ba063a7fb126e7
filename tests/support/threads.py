"""Thread-count helpers for the tests (the suite's workers run one intra-op thread each: tests/conftest.py)."""

from __future__ import annotations

import contextlib

from hifigan.runtime.threads import intra_op_threads as threads

__all__ = ["threads", "two_threads"]


def two_threads() -> contextlib.AbstractContextManager[None]:
    """Two intra-op threads while an engine is built, so a split engine cuts long inputs in two on any machine."""
    return threads(2)
