"""Python's cyclic garbage collector and torch's import: a short command (one `vocode` or `mel` of a few seconds)
spent 0.25-0.45 s in collections, most of them full ones walking the ~170 000 objects torch's import leaves, which
live as long as the process. `torch_frozen` imports torch with the collector paused and freezes what exists then
(gc.freeze), so that later collections walk only the command's own objects; no value computed changes."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")


def torch_frozen(command: Callable[..., R]) -> Callable[..., R]:
    """`command` run with torch imported first, uncollected, and every object that exists then frozen until it
    returns (unfrozen after, so that a Python caller of the CLI, a test, keeps its usual collections). A caller that
    froze objects of its own keeps its policy: nothing is frozen or unfrozen then."""

    @functools.wraps(command)
    def run(*args: object, **kwargs: object) -> R:
        if gc.get_freeze_count():
            return command(*args, **kwargs)
        enabled = gc.isenabled()
        gc.disable()
        try:
            try:
                import torch  # noqa: F401  (its ~170 000 objects, created with no collection walking them)
            finally:
                gc.freeze()
                if enabled:
                    gc.enable()
            return command(*args, **kwargs)
        finally:
            gc.unfreeze()

    return run
