"""A console that goes away mid-run (the reader of stderr ended: `hifigan train ... |& tee log` with the tee killed)
does not take the steps trained since the last checkpoint with it: the next line the run says finds the pipe closed
(EPIPE), and the loop stops after that step and saves it, as SIGTERM does, its reason SIGPIPE."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from hifigan import TrainJob, train
from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.corpus import Corpus
from hifigan.training.options import TrainOptions
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def test_a_console_gone_mid_run_stops_it_after_saving_the_step(tmp_path, tiny_corpus, monkeypatch):
    read, write = os.pipe()  # stderr a real pipe: its reader closes after step 1, as a killed `tee` does
    console = open(write, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", console)

    def reader_goes(trainer, batch, result):
        if trainer.step == 1:
            os.close(read)

    try:  # step 2 validates: its "the best so far" line is the first said with no reader
        result = train(TrainJob(TrainOptions(out=tmp_path / "run", progress=False, validation_interval=2,
                                             checkpoint_interval=0, log_interval=1, media_clips=0),
                                Corpus(folder=tiny_corpus, valid_count=2), config=tiny_config(), max_steps=6,
                                on_step=reader_goes))
    finally:
        monkeypatch.undo()
        console.close()
    assert (result.reason, result.step) == ("SIGPIPE", 2)
    assert result.checkpoint == tmp_path / "run" / "checkpoints" / "ckpt_00000002.pt"
    assert read_checkpoint(result.checkpoint)["step"] == 2


def test_a_terminal_closed_mid_run_stops_it_after_saving_the_step(tmp_path, tiny_corpus, tiny_config_json):
    """`hifigan train` in a terminal that closes (an ssh session lost): SIGHUP, and every write to the terminal
    fails (EIO). It ended the run at once, unsaved (the default action); now the step is finished and saved, as
    SIGTERM does, what it would say goes nowhere, and it exits 129, as a command SIGHUP ends (the hangup sent to the
    whole process group, as a terminal's is)."""
    out = tmp_path / "run"
    master, terminal = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "hifigan", "train", "--corpus", str(tiny_corpus), "--config",
                             str(tiny_config_json), "--out", str(out), "--max-steps", "100000", "--validation-interval",
                             "0", "--checkpoint-interval", "0", "--log-interval", "1", "--num-workers", "1"],
                            stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, preexec_fn=hangup_as_a_terminal_gives_it)
    os.close(terminal)
    os.set_blocking(master, False)
    log, deadline = out / "log.jsonl", time.monotonic() + 120
    try:
        try:
            while not (log.exists() and log.read_text().count('"step"') >= 2) and proc.poll() is None:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(master, 65536)  # the terminal shows what it says (its buffer never fills)
                assert time.monotonic() < deadline, "no steps logged"
                time.sleep(0.05)
        finally:
            os.close(master)  # the terminal is gone: writes to it fail from here on
        os.killpg(proc.pid, signal.SIGHUP)  # the hangup reaches the whole process group, DataLoader workers included
        assert proc.wait(120) == 129
    finally:
        with contextlib.suppress(ProcessLookupError):  # a run that outlived its hangup, and its workers
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    logged = [json.loads(line)["step"] for line in log.read_text().splitlines() if '"step"' in line]
    saved = read_checkpoint(out / "checkpoints" / "latest.pt")["step"]
    assert saved >= 2 and saved == max(logged)  # the step it reached, saved: nothing trained was lost
    assert not [p.name for p in out.rglob("*.tmp")]


def hangup_as_a_terminal_gives_it() -> None:
    """The child's SIGHUP at its default action, as a terminal's shell starts a command: a suite run under `nohup`
    passes SIGHUP ignored to every process it starts, and there the run rightly outlives its terminal."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def test_sighup_ignored_by_nohup_stays_ignored():
    """Under `nohup` (SIGHUP ignored when the run starts) a closed terminal must not stop the run: the loop's
    handler leaves an ignored SIGHUP as it is; otherwise it takes SIGHUP as it takes SIGTERM."""
    from hifigan.training.stop_signal import StopOnSignal

    before = signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        with StopOnSignal():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        with StopOnSignal() as stop:
            assert signal.getsignal(signal.SIGHUP) == stop._handle
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, before)


def test_a_console_gone_before_training_is_the_commands_error(monkeypatch):
    """Without a training loop to stop (the scan's lines, before the first step), a closed stderr is the OSError it
    is (BrokenPipeError), for the command to end with: nothing is trained to save."""
    from hifigan.training.reporting import say

    read, write = os.pipe()
    os.close(read)
    console = open(write, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", console)
    try:
        with pytest.raises(BrokenPipeError):
            say("scan: 3 files, 3 read")
    finally:
        monkeypatch.undo()
        os.close(write)
