"""A full disk, simulated in this process: what the atomic-write and failed-write tests make writes fail with, and
what a thread that fails meanwhile would print."""

from __future__ import annotations

import contextlib
import resource
import signal
import sys
import threading
from collections.abc import Iterator

LIMIT = 64 * 1024  # bytes any one file may grow to under `file_size_limit`


@contextlib.contextmanager
def file_size_limit(limit: int = LIMIT) -> Iterator[None]:
    """Simulate a full disk in this process: writes past `limit` bytes fail with EFBIG (SIGXFSZ ignored). No bytecode
    is cached meanwhile: a module first imported under the limit would leave a truncated .pyc (Python does not check
    the length it wrote), which every later import of it fails on ("marshal data too short")."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
        sys.dont_write_bytecode = no_bytecode


@contextlib.contextmanager
def thread_exceptions() -> Iterator[list[BaseException]]:
    """The exceptions that reach threading.excepthook in the block (a thread's traceback on stderr), recorded instead
    of printed."""
    seen: list[BaseException] = []
    hook, threading.excepthook = threading.excepthook, lambda args: seen.append(args.exc_value)
    try:
        yield seen
    finally:
        threading.excepthook = hook
