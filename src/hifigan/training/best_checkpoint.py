"""The run's best checkpoint: the lowest validation mel L1 so far and its step. A validation that improves on it
(strictly lower) makes that step's checkpoint the best: the trainer saves one at that step (when the intervals
differ, the checkpoint interval has not written one), best.pt points at it and --keep never removes it. Every
checkpoint stores the value and step under BEST_KEY, so --resume continues the comparison (a checkpoint made
before it was stored starts afresh, as does one whose best file is not in the run's folder, or whose value measured
another val/mel_l1 than today's: `on_disk`; a best whose ckpt_<step>.pt was removed by hand while best.pt still
holds it gets its name back). Rank 0 validates, so rank 0 alone keeps it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hifigan.checkpoints.format import read_checkpoint
from hifigan.checkpoints.run_files import BEST, BEST_KEY, step_checkpoint
from hifigan.errors import HifiganError
from hifigan.files.atomic import link_or_copy
from hifigan.files.paths import same_file
from hifigan.messages.option_names import flag

# What a stored best's value measures, stored with it so that a resume compares like with like: val/mel_l1 against
# the loss mel of the whole recording, as the official validation. A best stored without it (2026-12-06, before
# b3f2277) measured the recording cut to the generated length, a slightly different number.
METRIC = "mel_l1/whole-recording"


@dataclass
class BestCheckpoint:
    """The lowest validation mel L1 seen (inf: none yet) and the step it was seen at."""

    value: float = math.inf
    step: int | None = None
    metric: str | None = METRIC  # what `value` measures; None: a best stored before it was named

    def offer(self, value: float, step: int) -> bool:
        """Take `value` at `step` when it is strictly lower than the best so far (NaN never is); whether it was."""
        if not value < self.value:
            return False
        self.value, self.step, self.metric = float(value), int(step), METRIC
        return True

    def payload(self) -> dict[str, Any] | None:
        """What a checkpoint stores of it."""
        return None if self.step is None else {"value": self.value, "step": self.step, "metric": self.metric}

    @classmethod
    def restored(cls, obj: dict[str, Any]) -> BestCheckpoint:
        """The best a resumed checkpoint stores; a fresh one where it stores none (or not as a dict of both)."""
        stored = obj.get(BEST_KEY)
        if not isinstance(stored, dict) or not {"value", "step"} <= stored.keys():
            return cls()
        return cls(float(stored["value"]), int(stored["step"]), stored.get("metric"))


def on_disk(best: BestCheckpoint, folder: Path, source: Path, cli: bool) -> tuple[BestCheckpoint, str | None]:
    """`best` where its checkpoint is in `folder` and its value is today's val/mel_l1; else a fresh one and the line
    that says so: best.pt cannot name a resume back past a later best, for which --keep removed it, or from another
    folder than `folder` (`source`, the checkpoint resumed; best.pt is never another history's), and a value of the
    earlier val/mel_l1 cannot be compared with today's. `cli` False: the line names the field `keep`."""
    own = same_file(Path(source).parent, folder)
    if best.step is None or (own and step_checkpoint(folder, best.step).exists() and best.metric == METRIC):
        return best, None
    if own and best.metric == METRIC and restored_from_best_pt(folder, best):
        return best, (f"best: {step_checkpoint(folder, best.step)} (val/mel_l1 {best.value:.4f}) was gone; best.pt "
                      "still held it and gives it back under its name, so the comparison continues")
    if not own:
        where = f"is not in this run's folder ({folder})"
    elif not step_checkpoint(folder, best.step).exists():
        where = f"is gone ({flag('keep', cli)} removes a best once a later one replaces it)"
    else:
        where = ("was measured by an earlier version against the recording cut to the generated length, which "
                 f"today's val/mel_l1 (the whole recording) does not compare with (the file stays until "
                 f"{flag('keep', cli)} removes it)")
    return BestCheckpoint(), (f"best: {step_checkpoint(folder if own else Path(source).parent, best.step)} (val/mel_l1 "
                              f"{best.value:.4f}), the best of the checkpoint resumed, {where}: best.pt starts "
                              "afresh with this run's next validation")


def restored_from_best_pt(folder: Path, best: BestCheckpoint) -> bool:
    """Where the best's ckpt_<step>.pt was removed by hand but best.pt still holds that step's checkpoint (its
    step and stored best are `best`'s): name it ckpt_<step>.pt again, so that the next save keeps it rather than
    taking best.pt, its last copy, away. Whether it did."""
    held = folder / BEST
    try:
        obj = read_checkpoint(held) if held.is_file() else None
    except HifiganError:
        return False
    stored = obj.get(BEST_KEY) if isinstance(obj, dict) else None
    if not isinstance(stored, dict) or obj.get("step") != best.step or stored.get("step") != best.step \
            or stored.get("value") != best.value:
        return False
    link_or_copy(held, step_checkpoint(folder, best.step))
    return True
