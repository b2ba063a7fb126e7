"""A training run's folder: what a new run may start in (check_run_folder), what a new run whose writes fail
before its first checkpoint takes back (taken_back_unless_saved), so that such a `hifigan train` leaves no folder it
made, and what a run refused after its scan keeps there (ScanKept)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from hifigan.checkpoints.run_files import LATEST, checkpoint_files
from hifigan.data.skipped_list import SKIPPED_LIST
from hifigan.errors import NOTHING_WRITTEN, SCAN_KEPT, HifiganError, ReportedElsewhere, WriteError
from hifigan.files.paths import same_file
from hifigan.messages.option_names import flag, setting
from hifigan.training.event_file import EVENT_FILES
from hifigan.training.reporting import EVENTS, LOG_JSONL

SCAN_CACHE = "scan-cache.npz"  # in the run folder
# the run folder's own files, each written whole (hifigan.files.atomic)
RUN_FILES = (LOG_JSONL, SCAN_CACHE, SKIPPED_LIST)
T = TypeVar("T")


def run_folder_of(checkpoint: Path) -> Path:
    """The run folder a checkpoint belongs to: the folder that holds its checkpoints/, or the file's own folder."""
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def check_run_folder(out: Path, resumed_from: Path | None = None, *, cli: bool) -> None:
    """The run folder must be a folder, and a new run's must hold no run's checkpoints (pruning and --resume would
    mix the two runs' files) nor an earlier run's logs (a run stopped before its first checkpoint, e.g. aborted by a
    second Ctrl-C: the new run's steps would be logged after that run's, the same steps twice). A run resumed
    `resumed_from` a checkpoint continues in that checkpoint's run folder, or else in a folder a new run may take:
    its saves would set aside or prune another run's checkpoints (lost) and log after that run's steps. `cli`: the
    refusals name the command line's options (--resume runs/a), else TrainJob's fields (resume=Path('runs/a'))."""
    if out.exists() and not out.is_dir():
        raise HifiganError(out, f"is not a folder ({flag('out', cli)} is the run folder)")
    _not_a_checkpoints_folder(out, cli)
    if resumed_from is not None and _own_folder(out, resumed_from):
        return
    found = checkpoint_files(out / "checkpoints")
    logs = run_logs(out)
    new_out = f"give a new {flag('out', cli)}"
    if resumed_from is not None and (found or logs):
        held = f"checkpoints ({found[-1].name})" if found else f"logs ({' and '.join(logs)})"
        ways = [f"continue that run with {setting('resume', out, cli)}"] if found else []  # e.g. the same command
        ways.append(new_out)
        if not same_file(out, run_folder_of(resumed_from)):
            ways.append(f"none to continue in {run_folder_of(resumed_from)}")
        raise HifiganError(out, f"holds another run's {held}, which the run resumed from {resumed_from} would mix "
                                f"with its own: {', '.join(ways[:-1])}{', or ' if len(ways) > 1 else ''}{ways[-1]}")
    if found:
        raise HifiganError(out, f"already holds a run's checkpoints ({found[-1].name}): continue it with "
                                f"{setting('resume', out, cli)}, or {new_out}")
    if logs:
        raise HifiganError(out, f"holds an earlier run's logs ({' and '.join(logs)}) but no checkpoint: a "
                                f"new run would log its steps after that run's; move them away, or {new_out}")


def _not_a_checkpoints_folder(out: Path, cli: bool) -> None:
    """A run's checkpoints/ folder given as the run folder is refused: its run's files would nest in it
    (checkpoints/checkpoints/, checkpoints/logs/), a history beside the run's own that --resume of the run misses."""
    found = checkpoint_files(out)
    if out.name != "checkpoints" or not (found or (out / LATEST).is_file()):
        return
    held = found[-1].name if found else LATEST
    raise HifiganError(out, f"is a run's checkpoints folder (it holds {held}), not the run folder that holds it, "
                            f"{out.parent}: continue that run with {setting('resume', out.parent, cli)}, or give a "
                            f"new {flag('out', cli)}")


def _own_folder(out: Path, checkpoint: Path) -> bool:
    """Whether `out` is `checkpoint`'s run folder: the one whose checkpoints/ holds it (under any spelling, or a link
    to another disk). A file outside a checkpoints/ folder belongs to no run: its folder, where it holds a run's
    files, is another run's (a checkpoint copied into a run folder is not that run's)."""
    return same_file(out / "checkpoints", checkpoint.parent)


def run_logs(out: Path) -> list[str]:
    """The logs a run leaves in its folder: log.jsonl, and logs/ when it holds a file (TensorBoard's events)."""
    found = [LOG_JSONL] if (out / LOG_JSONL).is_file() else []
    if (out / EVENTS).is_dir() and any(p.is_file() for p in (out / EVENTS).rglob("*")):
        found.append(f"{EVENTS}/")
    return found


@contextlib.contextmanager
def taken_back_unless_saved(out: Path, new: bool, cli: bool) -> Iterator[None]:
    """If a write fails in the block (a full disk at the first save) and `out`, `new` to this run, holds no
    checkpoint: remove the files the run wrote there (logs, scan cache, skipped list), which nothing can resume and
    which would keep the next run out, so that the command's removing_new_folders (hifigan.files.output_folders)
    removes the folders it made. Any other failure (a divergence, a vanished clip, Ctrl-C) keeps the logs: they tell
    what happened. A failed write with a checkpoint in `out` keeps every file, and its error says which is the newest
    (and how to resume: as `cli` says, option_names)."""
    try:
        yield
    except (WriteError, OSError) as e:
        saved = checkpoint_files(out / "checkpoints")
        if saved and isinstance(e, WriteError):
            raise WriteError(e.path, f"{e.problem}: the run stopped, and its newest checkpoint is {saved[-1]} "
                                     f"({e.remedy}, then {setting('resume', out, cli)})", e.remedy) from None
        if new and not saved:
            _remove_run_files(out)
        raise


def _remove_run_files(out: Path) -> None:
    """The run's own files in `out`, by name; anything else stays (and keeps its folder)."""
    for name in RUN_FILES:
        with contextlib.suppress(OSError):
            (out / name).unlink(missing_ok=True)
    for events in (out / EVENTS).glob(EVENT_FILES):
        with contextlib.suppress(OSError):
            events.unlink()
    with contextlib.suppress(OSError):
        (out / EVENTS).rmdir()


class ScanKept:
    """A run refused once its scan has written OUT/scan-cache.npz keeps it, on purpose: the corrected rerun reads
    only the files changed since. Its refusal says so, lest the file look left behind by a run that never started."""

    def __init__(self, out: Path) -> None:
        self.cache, self.scanned = out / SCAN_CACHE, False

    def after_scan(self, facts: T) -> T:
        """The scan's `facts`, noted: from now on a refusal names the cache."""
        self.scanned = True
        return facts

    @contextlib.contextmanager
    def said(self) -> Iterator[None]:
        """Run the block; a refusal in it after the scan names the cache kept (bad_inputs' list says it itself)."""
        try:
            yield
        except ReportedElsewhere:
            raise
        except HifiganError as e:
            if not self.scanned or NOTHING_WRITTEN in e.problem:
                raise
            raise type(e)(e.path, f"{e.problem} ({self.cache} kept: {SCAN_KEPT})") from None
