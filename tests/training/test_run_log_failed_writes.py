"""A run log whose write fails (a full disk, simulated by a file-size limit) raises one WriteError naming the file,
TensorBoard's events file included, whose writes fail in TensorBoard's background thread: that thread prints nothing,
and the error comes back at the next record or at the close."""

from __future__ import annotations

import threading

import pytest

from hifigan.errors import WriteError
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from hifigan.training.event_file import EventFile
from hifigan.training.reporting import RunLog
from tests.support.full_disk import file_size_limit, thread_exceptions


def _failures(log: RunLog, records: int, scalars: int) -> list[WriteError]:
    """Log `records` records of `scalars` scalars each, then close: the WriteErrors raised, each stopping the run."""
    raised = []
    try:
        for step in range(1, records + 1):
            log.scalars(step, {f"g/term{k}": float(step + k) for k in range(scalars)}, epoch=0)
    except WriteError as e:
        raised.append(e)
    try:
        log.close()
    except WriteError as e:
        raised.append(e)
    return raised


def test_a_full_events_file_is_one_write_error_naming_it_and_no_thread_traceback(tmp_path):
    """The events file, which grows faster than log.jsonl, passes the limit first: one WriteError, raised at
    the scalar whose write failed or at the close, names the events file; the close after it raises nothing more."""
    with thread_exceptions() as printed, file_size_limit(2048):
        hook = threading.excepthook
        raised = _failures(RunLog(tmp_path, 0), records=20, scalars=8)
        assert threading.excepthook is hook  # ours is gone with the writer (checked before thread_exceptions' own)
    events = sorted((tmp_path / "logs").glob("events.out.tfevents.*"))
    assert len(events) == 1 and len(raised) == 1, raised
    assert str(raised[0]) == f"{events[0]}: cannot write ({FILE_SIZE_LIMIT})"
    assert printed == []


def test_a_full_log_jsonl_is_one_write_error_naming_it(tmp_path):
    """Records of the JSONL file alone (checkpoint events) fill it: the error names log.jsonl, once."""
    log = RunLog(tmp_path, 0)
    log.scalars(1, {"g/total": 1.0}, epoch=0)
    with file_size_limit(1024):
        with pytest.raises(WriteError) as failed:
            for step in range(2, 100):
                log.event(step, "checkpoint", f"{tmp_path}/checkpoints/ckpt_{step:08d}.pt")
        log.close()
    assert str(failed.value) == f"{tmp_path / 'log.jsonl'}: cannot write ({FILE_SIZE_LIMIT})"
    assert (tmp_path / "log.jsonl").stat().st_size == 1024


def test_an_events_file_whose_first_event_fails_names_it(tmp_path):
    """TensorBoard writes the file's first event as it makes the writer: that failure names the file too."""
    with thread_exceptions() as printed, file_size_limit(16):
        hook = threading.excepthook
        with pytest.raises(WriteError) as failed:
            EventFile(tmp_path / "logs", None)
        assert threading.excepthook is hook  # the writer that was not made put the hook back
    (made,) = (tmp_path / "logs").iterdir()
    assert made.name.startswith("events.out.tfevents.") and made.stat().st_size == 16
    assert str(failed.value) == f"{made}: cannot write ({FILE_SIZE_LIMIT})" and printed == []


def test_a_log_closed_without_a_failure_puts_the_thread_hook_back(tmp_path):
    """threading.excepthook is ours only while an events file is open: a run's log that closes as it should (and
    one closed twice) leaves the hook it found."""
    hook = threading.excepthook
    log = RunLog(tmp_path, 0)
    log.scalars(1, {"g/total": 1.0}, epoch=0)
    assert threading.excepthook is not hook  # open: ours
    log.close()
    log.close()
    assert threading.excepthook is hook
