"""Stopping a training loop on SIGINT/SIGTERM after the current step (it saves first); a second Ctrl-C aborts."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any


class StopOnSignal:
    """SIGINT/SIGTERM ask the loop to stop after the current step (and save); a second SIGINT aborts. A process
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
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if os.getpid() != self._pid:
            return  # a forked child's copy of the handler: the process that set it stops the run
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        if self.announce:
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


def is_main_thread() -> bool:
    """Signal handlers can only be installed from the main thread."""
    return threading.current_thread() is threading.main_thread()
