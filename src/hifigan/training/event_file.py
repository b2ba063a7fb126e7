"""TensorBoard's events file (a run's logs/), whose failed writes are our one-line error. TensorBoard's SummaryWriter
writes in a background thread: an error there (a full disk) would print that thread's traceback, then come back at
the writer's next call as an OSError naming no file. Here the thread prints nothing, and the error comes back, at
the next call or at the close, as a WriteError naming the events file."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hifigan.files.write_failures import write_failure

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

EVENT_FILES = "events.out.tfevents.*"  # TensorBoard's names for its files


class EventFile:
    """A SummaryWriter making a new events file in `folder` (TensorBoard hides the earlier files' events of steps >=
    `purge_step`); add_* calls go through `writing()`."""

    def __init__(self, folder: Path, purge_step: int | None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        before = set(folder.glob(EVENT_FILES))
        try:
            with _quiet_new_threads() as self._threads:
                self._writer = SummaryWriter(str(folder), purge_step=purge_step)
        except BaseException as e:
            _release(self._threads)
            if isinstance(e, OSError):  # its first events are written and flushed as it is made
                raise write_failure(_made(folder, before), e) from None
            raise
        self.path = _made(folder, before)

    @contextlib.contextmanager
    def writing(self) -> Iterator[SummaryWriter]:
        """The SummaryWriter: a write that fails in the block, or failed in TensorBoard's thread since the last call
        (raised by the writer's next call), raises a WriteError naming the events file."""
        try:
            yield self._writer
        except OSError as e:
            raise write_failure(self.path, e) from None

    def close(self) -> None:
        """Flush and close: a write that failed since the last call raises (WriteError) here; the thread is done."""
        try:
            with self.writing() as writer:
                writer.close()
        finally:
            _release(self._threads)


def _made(folder: Path, before: set[Path]) -> Path:
    """The events file the writer made in `folder` (the folder itself if that cannot be told)."""
    new = set(folder.glob(EVENT_FILES)) - before
    return new.pop() if len(new) == 1 else folder


# threading.excepthook, while one of our writers is open: its thread's exception is raised again by the writer's next
# call (TensorBoard keeps it), so the thread prints nothing; any other thread's goes to the hook that was there.
_quiet: set[threading.Thread] = set()  # our writers' threads
_opening: list[set[threading.Thread]] = []  # while a writer is made: the threads running before (its thread is new)
_previous: Any = None  # the hook ours stands in front of


def _hook(args: Any) -> None:
    if args.thread in _quiet or any(args.thread not in before for before in _opening):
        return
    (_previous or threading.__excepthook__)(args)


@contextlib.contextmanager
def _quiet_new_threads() -> Iterator[set[threading.Thread]]:
    """Threads started in the block print no traceback, from their start on until released (_release); yields
    their set, filled when the block ends."""
    global _previous
    if threading.excepthook is not _hook:
        _previous, threading.excepthook = threading.excepthook, _hook
    started: set[threading.Thread] = set()
    before = set(threading.enumerate())
    _opening.append(before)
    try:
        yield started
    finally:
        started.update(set(threading.enumerate()) - before)
        _quiet.update(started)
        _opening.remove(before)


def _release(threads: set[threading.Thread]) -> None:
    """`threads` (stopped) are no longer ours; once no writer is open, the previous hook is back."""
    global _previous
    _quiet.difference_update(threads)
    if not _quiet and not _opening and threading.excepthook is _hook:
        threading.excepthook, _previous = _previous, None
