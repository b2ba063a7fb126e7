"""Stopping a training loop on SIGINT/SIGTERM/SIGHUP after the current step (it saves first); a second Ctrl-C aborts."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any

HANGUP = getattr(signal, "SIGHUP", None)  # POSIX only
STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, HANGUP) if s is not None)


class StopOnSignal:
    """SIGINT/SIGTERM ask the loop to stop after the current step (and save); a second SIGINT aborts. SIGHUP (its
    terminal closed: an ssh session lost, a window shut) too, its standard output and error sent to /dev/null at once,
    since every write to a terminal gone fails (EIO): the run saves, then ends silently. A process
    forked inside the block (a DataLoader worker, before its worker_init_fn ignores SIGINT) inherits the handler:
    there it does nothing, as the terminal's Ctrl-C reaches the whole process group and this process stops them."""

    def __init__(self, announce: bool = True) -> None:
        self.signum: int | None = None
        self.announce = announce  # say so at once (under torchrun: rank 0 only, so the job says it once)
        self._previous: dict[int, Any] = {}
        self._pid = os.getpid()

    def __enter__(self) -> StopOnSignal:
        self._pid = os.getpid()
        if is_main_thread():
            for sig in STOP_SIGNALS:
                if sig == HANGUP and signal.getsignal(sig) == signal.SIG_IGN:
                    continue  # `nohup`'s (or a shell's `trap '' HUP`): the run goes on when its terminal closes
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if os.getpid() != self._pid:
            return  # a forked child's copy of the handler: the process that set it stops the run
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if signum == HANGUP:
            to_devnull(sys.stdout, sys.stderr)
        self.signum = signum
        if self.announce and signum != HANGUP:
            print(f"\n{signal.Signals(signum).name}: stopping after this step and saving a checkpoint "
                  "(Ctrl-C again to abort without saving)", file=sys.stderr, flush=True)

    def request(self, signum: int) -> None:
        """Ask the loop to stop after the current step (and save), as `signum` would, without saying so."""
        if self.signum is None:
            self.signum = signum

    def __exit__(self, *exc: Any) -> None:
        """The handlers from before, where this one is still in place (not where the block set another since)."""
        for sig, handler in self._previous.items():
            if signal.getsignal(sig) == self._handle:
                signal.signal(sig, handler)


def to_devnull(*streams: Any) -> None:
    """Point `streams` (their file descriptors) at /dev/null: what they write from now on, and what their buffers
    hold (not flushed here: a signal handler may have interrupted a write of theirs), is dropped, not an error."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in streams:
            with contextlib.suppress(OSError, ValueError):  # a stream closed, or one without a descriptor
                os.dup2(null, stream.fileno())
    finally:
        os.close(null)


def is_main_thread() -> bool:
    """Signal handlers can only be installed from the main thread."""
    return threading.current_thread() is threading.main_thread()
