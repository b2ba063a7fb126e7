"""An exception raised by the caller's on_step hook stops the run between steps, its state whole: the step reached is
saved first, as a Ctrl-C saves it, and the exception reaches the caller unchanged; a resume from that checkpoint
computes what the run uninterrupted computes. A KeyboardInterrupt (the second Ctrl-C's abort) saves nothing."""

from __future__ import annotations

import json

import pytest

from hifigan import TrainJob, train
from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.corpus import Corpus
from hifigan.training.options import TrainOptions
from tests.support.files import equal_states
from tests.support.tiny import tiny_config

QUIET = dict(progress=False, validation_interval=0, checkpoint_interval=100, deterministic=True)
pytestmark = pytest.mark.usefixtures("single_thread")


def _job(out, corpus, **kwargs) -> TrainJob:
    return TrainJob(TrainOptions(out=out, **QUIET), Corpus(folder=corpus, valid_count=2),
                    config=tiny_config(disc_start_step=0), **kwargs)


def _fails_at(step: int, error: BaseException):
    def hook(trainer, batch, result):
        if trainer.step == step:
            raise error
    return hook


def test_a_hook_that_raises_saves_the_step_reached_and_the_resume_is_exact(tmp_path, tiny_corpus, capsys):
    error = RuntimeError("the caller's hook fails")
    with pytest.raises(RuntimeError) as raised:
        train(_job(tmp_path / "run", tiny_corpus, max_steps=2, on_step=_fails_at(1, error)))
    assert raised.value is error
    saved = tmp_path / "run" / "checkpoints" / "ckpt_00000001.pt"
    assert f"step 1: on_step raised RuntimeError: the run stopped, its newest checkpoint is {saved}" in \
        capsys.readouterr().err
    assert read_checkpoint(saved)["step"] == 1
    resumed = train(TrainJob(TrainOptions(**QUIET), resume=tmp_path / "run", max_steps=2))
    straight = train(_job(tmp_path / "straight", tiny_corpus, max_steps=2))
    a, b = read_checkpoint(resumed.checkpoint), read_checkpoint(straight.checkpoint)
    assert a["step"] == b["step"] == 2
    for key in ("generator", "mpd", "msd", "optim_g", "optim_d"):
        assert equal_states(a[key], b[key]), key


def test_a_keyboard_interrupt_from_the_hook_saves_nothing(tmp_path, tiny_corpus):
    with pytest.raises(KeyboardInterrupt):
        train(_job(tmp_path / "run", tiny_corpus, max_steps=4, on_step=_fails_at(2, KeyboardInterrupt())))
    assert not list((tmp_path / "run").rglob("ckpt_*.pt"))


def test_a_save_that_fails_after_the_hook_raised_is_said_and_the_hook_s_exception_reaches_the_caller(
        tmp_path, tiny_corpus, capsys):
    """Not the save's error with the hook's as its __context__: the caller gets their own, the failed save one line."""
    error = RuntimeError("the caller's hook fails")

    def hook(trainer, batch, result):
        trainer.ckpt_dir.rmdir()
        trainer.ckpt_dir.write_text("a file where the checkpoints folder should be")
        raise error

    with pytest.raises(RuntimeError) as raised:
        train(_job(tmp_path / "run", tiny_corpus, max_steps=2, on_step=hook))
    assert raised.value is error
    folder = tmp_path / "run" / "checkpoints"
    assert f"step 1: on_step raised RuntimeError: the run stopped; not saved: {folder}: cannot write (File exists)\n" \
        in capsys.readouterr().err


def test_a_hook_that_raises_at_a_step_saved_already_logs_it_and_names_that_checkpoint(tmp_path, tiny_corpus, capsys):
    """The hook raises at a checkpoint interval's step (saved before the hook ran, so the stop saves nothing anew):
    the warning names that checkpoint, and the step's scalars, between log intervals, are logged all the same."""
    out = tmp_path / "run"
    job = TrainJob(TrainOptions(out=out, **{**QUIET, "checkpoint_interval": 1, "log_interval": 100}),
                   Corpus(folder=tiny_corpus, valid_count=2), config=tiny_config(disc_start_step=0), max_steps=3,
                   on_step=_fails_at(1, RuntimeError("stop")))
    with pytest.raises(RuntimeError, match="stop"):
        train(job)
    saved = out / "checkpoints" / "ckpt_00000001.pt"
    assert f"step 1: on_step raised RuntimeError: the run stopped, its newest checkpoint is {saved}" in \
        capsys.readouterr().err
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "speed/steps_per_s" in r] == [1]
