"""A console that goes away mid-run (the reader of stderr ended: `hifigan train ... |& tee log` with the tee killed)
does not take the steps trained since the last checkpoint with it: the next line the run says finds the pipe closed
(EPIPE), and the loop stops after that step and saves it, as SIGTERM does, its reason SIGPIPE."""

from __future__ import annotations

import os
import sys

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
                                             checkpoint_interval=0, log_interval=1),
                                Corpus(folder=tiny_corpus, valid_count=2), config=tiny_config(), max_steps=6,
                                on_step=reader_goes))
    finally:
        monkeypatch.undo()
        console.close()
    assert (result.reason, result.step) == ("SIGPIPE", 2)
    assert result.checkpoint == tmp_path / "run" / "checkpoints" / "ckpt_00000002.pt"
    assert read_checkpoint(result.checkpoint)["step"] == 2
