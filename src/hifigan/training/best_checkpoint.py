"""The run's best checkpoint: the lowest validation mel L1 so far and its step. A validation that improves on it
(strictly lower) makes that step's checkpoint the best: the trainer saves one at that step (when the intervals
differ, the checkpoint interval has not written one), best.pt points at it and --keep never removes it. Every
checkpoint stores the value and step under BEST_KEY, so --resume continues the comparison (a checkpoint made
before it was stored starts afresh). Rank 0 validates, so rank 0 alone keeps it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

BEST_KEY = "best"  # the checkpoint key: {"value": mel L1, "step": step}, or None before any validation


@dataclass
class BestCheckpoint:
    """The lowest validation mel L1 seen (inf: none yet) and the step it was seen at."""

    value: float = math.inf
    step: int | None = None

    def offer(self, value: float, step: int) -> bool:
        """Take `value` at `step` when it is strictly lower than the best so far (NaN never is); whether it was."""
        if not value < self.value:
            return False
        self.value, self.step = float(value), int(step)
        return True

    def payload(self) -> dict[str, Any] | None:
        """What a checkpoint stores of it."""
        return None if self.step is None else {"value": self.value, "step": self.step}

    @classmethod
    def restored(cls, obj: dict[str, Any]) -> BestCheckpoint:
        """The best a resumed checkpoint stores; a fresh one where it stores none (or not as a dict of both)."""
        stored = obj.get(BEST_KEY)
        if not isinstance(stored, dict) or not {"value", "step"} <= stored.keys():
            return cls()
        return cls(float(stored["value"]), int(stored["step"]))
