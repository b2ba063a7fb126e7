"""Non-finite steps: each is skipped (by the step) and reported; too many in a row stop the run with an error."""

from __future__ import annotations

import math

from hifigan.errors import HifiganError


class NonfiniteGuard:
    """Counts skipped steps; `limit` in a row raise (the last checkpoint is kept)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.run = self.total = 0

    def check(self, ok: bool, step: int, terms: dict[str, float]) -> str | None:
        """After a step: None when it was finite, else the message to report; raises at the limit."""
        if ok:
            self.run = 0
            return None
        self.run += 1
        self.total += 1
        bad = ", ".join(f"{k}={v}" for k, v in terms.items() if not math.isfinite(v)) or "gradients"
        return (f"step {step}: non-finite loss ({bad}); update skipped "
                f"({self.run} in a row, limit {self.limit})")

    def raise_at_limit(self, step: int) -> None:
        if self.run >= self.limit:
            raise HifiganError(None, f"training diverged: {self.run} non-finite steps in a row at step "
                                     f"{step} (last checkpoint kept; try a lower learning rate, or fp32)")
