"""Tests of what a user without root's rights meets (folders it may not list, files it may not read): the suite runs
as root in CI, and root lists and reads everything."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

NOBODY = 65534


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    """This process as user nobody for the block, where it runs as root (a non-root user is refused already)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
