"""Counting the Python calls a piece of work makes (sys.setprofile), to hold its bookkeeping to a budget: the count is
exact and does not depend on the machine's load, unlike a time."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any


def python_calls(run: Callable[[], Any]) -> Counter[str]:
    """Calls of Python functions while `run()` runs in this thread, by `module.qualname` of the function."""
    counted: Counter[str] = Counter()

    def profile(frame, event, arg) -> None:
        if event == "call":
            counted[f"{frame.f_globals.get('__name__')}.{frame.f_code.co_qualname}"] += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return counted
