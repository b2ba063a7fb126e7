"""An exception the caller's on_step hook raises stops the run between steps, its state whole: the step reached is
logged and saved first, as a Ctrl-C saves it, and the warning that says so names the checkpoint; a log or save that
fails then is said in that same line, so that the caller gets their own exception, never the write's in its place."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from hifigan.errors import HifiganError
from hifigan.files.write_failures import write_failure
from hifigan.training.run_checkpoints import RunCheckpoints


class Stopping(Protocol):
    """What of a Trainer the hook's stop uses (the Trainer itself; a Protocol keeps the import one way)."""

    step: int
    checkpoints: RunCheckpoints

    def save_checkpoint(self) -> Path | None: ...


def saved_after_hook(trainer: Stopping, error: Exception, log_step: Callable[[], object]) -> str | None:
    """Log (`log_step`) and save the step reached after on_step raised `error`; the warning to say of it (None where
    there is nothing to say: a rank other than 0, which saves nothing)."""
    failed: list[str] = []
    with _said_in(failed, "not logged", trainer.checkpoints.folder):
        log_step()
    saved = None
    with _said_in(failed, "not saved", trainer.checkpoints.folder):
        saved = trainer.save_checkpoint()
    newest = saved or trainer.checkpoints.newest()
    if newest is None and not failed:
        return None
    return (f"step {trainer.step}: on_step raised {type(error).__name__}: the run stopped"
            + "".join(f"; {problem}" for problem in failed)
            + ("" if newest is None else f"{';' if failed else ','} its newest checkpoint is {newest}"))


@contextlib.contextmanager
def _said_in(failed: list[str], what: str, folder: Path) -> Iterator[None]:
    """A write that fails in the block (a HifiganError, or an OSError as the write's: its file, else `folder`)
    added to `failed` as `what: FILE: PROBLEM`, not raised."""
    try:
        yield
    except HifiganError as e:
        failed.append(f"{what}: {e}")
    except OSError as e:
        failed.append(f"{what}: {write_failure(e.filename or folder, e)}")
