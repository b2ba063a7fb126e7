"""When a progress bar shows: the one rule of the commands and of every Python default (docs/commands.md, rule 6)."""

from __future__ import annotations

import os
import sys


def on_terminal() -> bool:
    """A progress bar belongs on an interactive terminal: not in a pipe, a file or under CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def shows_bars(progress: bool | None) -> bool:
    """A caller's `progress`: True or False as given; None (the Python functions' default) on a terminal only."""
    return on_terminal() if progress is None else progress
