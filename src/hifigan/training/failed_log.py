"""A log write that fails mid-run (a full disk): this step's checkpoint saved first, if the disk allows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from hifigan.errors import WriteError
from hifigan.training.data_parallel import DistInfo


class Saving(Protocol):
    """What of a Trainer the failed-log save uses (the Trainer itself; a Protocol keeps the import one way)."""

    dist: DistInfo
    ckpt_dir: Path
    log: Any
    step: int

    def save_checkpoint(self) -> Any: ...


@contextlib.contextmanager
def saving_on_failed_log(trainer: Saving) -> Iterator[None]:
    """A log write that fails (a full disk) stops the run between steps, its state whole: rank 0 first saves
    this step's checkpoint, if the disk allows, so that no step trained since the last one is lost (the log is
    not written again); a save that fails too is said in the same line. A failed save stops the run as it is."""
    try:
        yield
    except WriteError as e:
        if not trainer.dist.is_main or e.path is None or trainer.ckpt_dir in (Path(e.path), Path(e.path).parent):
            raise  # a checkpoint's own write
        log, trainer.log = trainer.log, None
        try:
            trainer.save_checkpoint()
        except WriteError as again:
            why = "" if again.problem.lower() == e.problem.lower() else f" ({again.path}: {again.problem})"
            remedy = e.remedy if again.remedy == e.remedy else f"{e.remedy}, {again.remedy}"
            raise WriteError(e.path, f"{e.problem}; saving step {trainer.step} failed too{why}", remedy) from None
        finally:
            trainer.log = log
        raise
