"""Tests of what a user without root's rights meets (folders it may not list, files it may not read): the suite runs
as root in CI, and root lists and reads everything."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

NOBODY = 65534
# The machine's temp folder, as this process found it (tests/conftest.py imports this before it points tempfile at
# the session's own folder, which is root's alone): where a folder that user nobody may enter is made.
MACHINE_TEMP = Path(tempfile.gettempdir())


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


def folder_anyone_may_enter(prefix: str) -> Path:
    """A new folder of mode 755 in the machine's temp folder (pytest's are root's alone); the caller removes it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=MACHINE_TEMP))
    folder.chmod(0o755)
    return folder
