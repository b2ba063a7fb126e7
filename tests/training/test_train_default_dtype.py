"""Training from Python whatever torch's default dtype: the models, mels and optimizer states are float32 (a caller's
torch.set_default_dtype(torch.float64) changes nothing in the run), and a run that fails before it logged anything
leaves no logs that would keep the next run out of its folder."""

from __future__ import annotations

import pytest
import torch

from hifigan import TrainJob, train
from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.corpus import Corpus
from hifigan.training.options import TrainOptions
from tests.support.files import equal_states
from tests.support.tiny import tiny_config

QUIET = dict(progress=False, validation_interval=0, checkpoint_interval=0, deterministic=True)
pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def float64_default():
    """torch's default dtype float64 for the test (as a caller's code may set it), then float32 again."""
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(torch.float32)


def _job(out, corpus, **kwargs) -> TrainJob:
    return TrainJob(TrainOptions(out=out, **QUIET), Corpus(folder=corpus, valid_count=2),
                    config=tiny_config(disc_start_step=0), **kwargs)


def test_a_float64_default_trains_and_resumes_as_the_float32_run(tmp_path, tiny_corpus, float64_default):
    """A fresh run and its resume under a float64 default give the float32 run's checkpoint bit for bit."""
    train(_job(tmp_path / "f64", tiny_corpus, max_steps=1))
    resumed = train(TrainJob(TrainOptions(**QUIET), resume=tmp_path / "f64", max_steps=2))
    assert torch.get_default_dtype() == torch.float64  # the caller's, again
    torch.set_default_dtype(torch.float32)
    straight = train(_job(tmp_path / "f32", tiny_corpus, max_steps=2))
    a, b = read_checkpoint(resumed.checkpoint), read_checkpoint(straight.checkpoint)
    assert a["step"] == b["step"] == 2
    assert all(t.dtype == torch.float32 for t in a["generator"].values())
    for key in ("generator", "mpd", "msd", "optim_g", "optim_d"):
        assert equal_states(a[key], b[key]), key


def test_a_run_that_fails_before_it_logged_leaves_no_logs_and_the_next_run_starts(tmp_path, tiny_corpus):
    """A failure in the first step that saves nothing (here a KeyboardInterrupt, as a second Ctrl-C aborts, from the
    caller's on_step hook; the log interval is 10) leaves no log.jsonl and no TensorBoard events, so the next run in
    that folder is not refused."""

    def fail(trainer, batch, result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_job(tmp_path / "run", tiny_corpus, max_steps=1, on_step=fail))
    assert not (tmp_path / "run" / "log.jsonl").exists()
    assert not any(p.is_file() for p in (tmp_path / "run").rglob("logs/*"))
    assert train(_job(tmp_path / "run", tiny_corpus, max_steps=1)).step == 1
    assert (tmp_path / "run" / "log.jsonl").is_file()
