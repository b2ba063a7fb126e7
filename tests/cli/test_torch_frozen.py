"""`vocode` and `mel` import torch with the collector paused and run with what exists then frozen (gc.freeze:
no full collection walks torch's objects again); a Python caller gets its collector back as it was."""

import gc
import sys

import pytest

from hifigan.cli import main
from hifigan.runtime.collector import torch_frozen
from tests.support.cli_runs import tone, wav
from tests.support.official_files import official_tiny_files


@torch_frozen
def _state() -> tuple[int, bool, bool]:
    return gc.get_freeze_count(), gc.isenabled(), "torch" in sys.modules


def test_the_command_runs_frozen_with_torch_imported_and_the_caller_gets_its_collector_back():
    assert gc.get_freeze_count() == 0
    frozen, enabled, torch_in = _state()
    assert frozen > 0 and enabled and torch_in
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_failing_command_is_unfrozen_too():
    @torch_frozen
    def fails() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        fails()
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def _frozen(thing: object) -> bool:
    """Whether `thing` (tracked by the collector) is in the permanent generation: gc.get_objects leaves those out.
    (Counting them, gc.get_freeze_count, is not stable: a frozen object freed by its refcount leaves the count.)"""
    return all(o is not thing for o in gc.get_objects())


def test_a_caller_that_froze_or_paused_the_collector_keeps_its_policy():
    before = [[]]
    gc.freeze()
    try:
        after = [[]]

        @torch_frozen
        def seen() -> tuple[bool, bool]:
            return _frozen(before), _frozen(after)

        assert seen() == (True, False)  # the caller's frozen objects stay so, and nothing more is frozen
        assert _frozen(before) and not _frozen(after)  # nor unfrozen after
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        assert _state()[:2] != (0, True) and not gc.isenabled()  # frozen, still paused, and paused after
    finally:
        gc.enable()


def test_vocode_collects_with_the_objects_before_it_frozen(tmp_path):
    """(`mel` has the same decorator; its tiny run allocates too little for a collection to be sure to run.)"""
    _, ckpt, cfg_path = official_tiny_files(tmp_path)
    audio = wav(tmp_path / "a.wav", tone(4000))
    frozen: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            frozen.append(gc.get_freeze_count())

    gc.callbacks.append(seen)
    try:
        assert main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(tmp_path / "o"), str(audio)]) == 0
    finally:
        gc.callbacks.remove(seen)
    assert max(frozen, default=0) > 0, frozen  # the command's collections skipped what existed before it
    assert gc.get_freeze_count() == 0 and gc.isenabled()
