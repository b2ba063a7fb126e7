"""A clip deleted or truncated while a run trains: the run keeps the steps it trained (a checkpoint of the last
completed step, its scalars logged) and stops with one line naming the file, with DataLoader workers too."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.clip_scan import scan_clips
from hifigan.errors import HifiganError
from hifigan.training.options import TrainOptions
from hifigan.training.trainer import Trainer
from tests.support.files import write_clips
from tests.support.tiny import tiny_config


def _break(paths: list[Path], how: str) -> None:
    for path in paths:
        if how == "delete":
            path.unlink()
        else:  # the header promises more samples than the file holds
            path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize(("workers", "how"), [(0, "delete"), (1, "delete"), (1, "truncate")])
def test_a_clip_that_breaks_mid_run_saves_the_last_step_and_names_the_file(tmp_path, workers, how):
    paths = write_clips(tmp_path / "wavs", 12, seconds=(0.1, 0.2))
    config = tiny_config(num_workers=workers, disc_start_step=1000)
    clips = scan_clips(paths, config, cli=True).clips
    out = tmp_path / "run"
    trainer = Trainer(config, clips[1:], clips[:1], TrainOptions(out=out, validation_interval=0, log_interval=1000,
                                                                checkpoint_interval=0, progress=False))

    def on_step(trainer: Trainer, batch, result) -> None:
        if trainer.step == 2:
            _break(paths, how)

    with pytest.raises(HifiganError) as caught:
        trainer.fit(max_steps=40, on_step=on_step)
    trainer.close()
    step = trainer.step
    assert step >= 2
    message = str(caught.value)
    assert "\n" not in message
    assert re.match(rf"{re.escape(str(tmp_path / 'wavs'))}/clip\d\d\.wav: ", message), message
    saved = out / "checkpoints" / f"ckpt_{step:08d}.pt"
    assert f"checkpoint {saved} holds step {step}" in message
    assert read_checkpoint(saved)["step"] == step
    # the last step's scalars are logged, as at a normal end (--log-interval 1000 logged none before)
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    scalars = [r for r in records if "lr/g" in r]
    assert [r["step"] for r in scalars] == [step]
    assert math.isfinite(scalars[0]["speed/steps_per_s"]) and scalars[0]["epoch"] == trainer.epoch


@pytest.mark.parametrize(("workers", "how"), [(0, "delete"), (1, "truncate")])
def test_a_held_out_clip_that_breaks_mid_run_stops_the_run_as_a_training_clip_does(tmp_path, workers, how):
    paths = write_clips(tmp_path / "wavs", 12, seconds=(0.1, 0.2))
    config = tiny_config(num_workers=workers, disc_start_step=1000)
    clips = scan_clips(paths, config, cli=True).clips
    out = tmp_path / "run"
    trainer = Trainer(config, clips[1:], clips[:1], TrainOptions(out=out, validation_interval=3,
                                                                checkpoint_interval=0, progress=False))

    def on_step(trainer: Trainer, batch, result) -> None:
        if trainer.step == 2:
            _break([clips[0].path], how)

    with pytest.raises(HifiganError) as caught:
        trainer.fit(max_steps=40, on_step=on_step)
    trainer.close()
    saved = out / "checkpoints" / "ckpt_00000003.pt"
    message = str(caught.value)
    assert message.startswith(f"{clips[0].path}: ") and "\n" not in message, message
    assert f"(changed since the scan; checkpoint {saved} holds step 3: fix the data" in message
    assert read_checkpoint(saved)["step"] == 3
