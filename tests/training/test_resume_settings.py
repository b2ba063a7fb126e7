"""--resume keeps the run's own settings (checkpoint, validation and log intervals, --keep, --max-steps) as it keeps
its config and data: a value given anew wins and is said; a run made before they were stored resumes with today's
defaults, and never loses a checkpoint to a --keep it was not given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint, write_checkpoint
from hifigan.checkpoints.run_files import checkpoint_files, save_step_checkpoint
from hifigan.cli import main
from hifigan.training.options import TrainJob, TrainOptions
from hifigan.training.run_settings import check_keep
from tests.support.files import copy_run
from tests.support.threads import threads

pytestmark = pytest.mark.usefixtures("single_thread")
SETTINGS = ["--keep", "5", "--checkpoint-interval", "1", "--log-interval", "1", "--validation-interval", "0"]


def _start(run, corpus, config, *flags: str) -> None:
    """A tiny run of 6 steps: with SETTINGS it holds ckpt 2 ... 6."""
    assert main(["train", "--corpus", str(corpus), "--config", str(config), "--no-progress", "--valid-count", "2",
                 "--out", str(run), "--max-steps", "6", *flags]) == 0


@pytest.fixture(scope="module")
def settings_run(tmp_path_factory, tiny_corpus, tiny_config_json) -> Path:
    """The tiny run of 6 steps with SETTINGS (ckpt 2 ... 6), trained once for the tests that each resume a copy of
    it (copy_run)."""
    with threads(1):
        run = tmp_path_factory.mktemp("settings") / "run"
        _start(run, tiny_corpus, tiny_config_json, *SETTINGS)
    return run


def _steps(run) -> list[int]:
    return [int(p.stem.split("_")[1]) for p in checkpoint_files(run / "checkpoints")]


def _records(run) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_a_resume_keeps_the_runs_intervals_keep_and_target(tmp_path, settings_run, capsys):
    run = copy_run(settings_run, tmp_path)
    assert _steps(run) == [2, 3, 4, 5, 6]
    assert main(["train", "--resume", str(run), "--max-steps", "8", "--no-progress"]) == 0
    assert _steps(run) == [4, 5, 6, 7, 8]  # --keep 5 and --checkpoint-interval 1 held: no checkpoint lost
    records = _records(run)
    assert 7 in [r["step"] for r in records if "g/total" in r]  # --log-interval 1
    assert not [r for r in records if "val/mel_l1" in r]  # --validation-interval 0
    stored = read_checkpoint(run / "checkpoints" / "ckpt_00000008.pt")["run"]
    assert (stored["keep"], stored["checkpoint_interval"], stored["max_steps"]) == (5, 1, 8)
    assert "given anew" in capsys.readouterr().err  # --max-steps 8 (the run's: 6)
    # --max-steps is the run's target too: resumed without it, the run is done.
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _steps(run) == [4, 5, 6, 7, 8] and "stopped (max_steps) at step 8" in capsys.readouterr().err


def test_a_setting_given_anew_wins_is_said_and_stored(tmp_path, settings_run, capsys):
    run = copy_run(settings_run, tmp_path)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--max-steps", "7", "--keep", "2", "--log-interval", "2",
                 "--checkpoint-interval", "1", "--no-progress"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "given anew" in line]
    assert len(lines) == 1 and "--keep 2 (the run's: 5)" in lines[0] and "--log-interval 2 (the run's: 1)" in lines[0]
    assert "--checkpoint-interval" not in lines[0]  # given as the run has it: nothing replaced, nothing said
    assert "--keep 2: the first save keeps its own checkpoint and the newest (ckpt_00000006.pt) of the run's 5; it " \
           "removes the run's ckpt_00000002.pt to ckpt_00000005.pt" in err
    assert _steps(run) == [6, 7]
    stored = read_checkpoint(run / "checkpoints" / "ckpt_00000007.pt")["run"]
    assert (stored["keep"], stored["log_interval"], stored["checkpoint_interval"]) == (2, 2, 1)


def test_a_run_made_before_settings_were_stored_resumes_and_loses_no_checkpoint(tmp_path, settings_run, capsys):
    """Its checkpoints hold no "run" key: --keep is today's default 3, below the 5 it holds, so the resume is
    refused in one line until --keep is given; then it resumes with today's defaults (checkpoint at the end only)."""
    run = copy_run(settings_run, tmp_path)
    for path in checkpoint_files(run / "checkpoints"):
        obj = read_checkpoint(path)
        obj.pop("run", None)
        write_checkpoint(path, obj)
    before = {p.name: p.read_bytes() for p in checkpoint_files(run / "checkpoints")}
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--max-steps", "8", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert "holds 5 checkpoints, more than --keep 3" in err and "give --keep 5 to keep them all" in err
    assert {p.name: p.read_bytes() for p in checkpoint_files(run / "checkpoints")} == before
    assert main(["train", "--resume", str(run), "--max-steps", "8", "--keep", "5", "--no-progress"]) == 0
    assert "stores no run settings" in capsys.readouterr().err
    assert _steps(run) == [3, 4, 5, 6, 8]  # --checkpoint-interval 5000 (today's default): saved at the end only


def test_a_resume_refuses_a_config_that_differs_from_the_runs(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """--resume keeps the run's config: the same --config again resumes; one that changes a key (the learning rate
    of a yaml laid over the run's, or a whole preset) is one line naming the checkpoint and every key, nothing run."""
    run = tmp_path / "run"
    _start(run, tiny_corpus, tiny_config_json, "--validation-interval", "0", "--max-steps", "0")  # ckpt_00000000.pt
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--config", str(tiny_config_json), "--no-progress"]) == 0
    assert "resumed from" in capsys.readouterr().err
    (tmp_path / "lr.yaml").write_text("learning_rate: 0.001\nbatch_size: 2\n")  # the run's batch size, another rate
    assert main(["train", "--resume", str(run), "--config", str(tmp_path / "lr.yaml"), "--max-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err == (f"hifigan train: error: {run / 'checkpoints' / 'ckpt_00000000.pt'}: --config {tmp_path / 'lr.yaml'} "
                   "differs from the resumed run's config: learning_rate 0.001 (the run's 0.0002); a resumed run keeps "
                   "its config (leave --config out, or start a new run with --init-from this checkpoint to train on "
                   "with another)\n")
    assert main(["train", "--resume", str(run), "--config", "v1", "--max-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "--config v1 differs" in err and "upsample_rates [8, 8, 2, 2] (the run's [4, 4])" in err
    assert "num_mels 80 (the run's 16)" in err and len(err.splitlines()) == 1
    assert _steps(run) == [0]


def test_a_config_override_on_resume_changes_the_runs_config_and_is_said(tmp_path, tiny_corpus, tiny_config_json,
                                                                         capsys):
    """--batch-size on --resume replaces the run's (a resume on a smaller machine): said in one line, stored; given
    as the run has it, nothing is said."""
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--no-progress",
                 "--valid-count", "2", "--validation-interval", "0", "--out", str(run), "--max-steps", "0"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--batch-size", "2", "--no-progress"]) == 0
    assert "replace the run's config" not in capsys.readouterr().err  # the tiny config's batch is 2
    assert main(["train", "--resume", str(run), "--batch-size", "3", "--max-steps", "1", "--no-progress"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "replace the run's config" in line]
    assert lines == ["given anew, these replace the run's config from now on: --batch-size 3 (the run's: 2)"]
    assert read_checkpoint(run / "checkpoints" / "ckpt_00000001.pt")["config"]["batch_size"] == 3


@pytest.mark.parametrize("new_best", [False, True])
def test_the_keep_line_promises_only_what_the_first_save_does(tmp_path, new_best):
    """--resume --keep 1 of a run holding ckpt 1-3, best.pt at step 1: the line names what the save keeps, and the
    best only while it is the best; a validation before the save that finds a new best (step 4) takes the old one's
    protection, so all three go, which a count ('removes the 2 oldest') said before would have hidden."""
    folder = tmp_path / "checkpoints"
    for step in (1, 2, 3):
        save_step_checkpoint(folder, step, {"step": torch.tensor(step)}, keep=100, best=1)
    line = check_keep(TrainJob(TrainOptions(keep=1)), True, folder, 3, best=1)
    assert line == ("keep=1: the first save keeps only its own checkpoint; it removes the run's ckpt_00000001.pt "
                    "to ckpt_00000003.pt but ckpt_00000001.pt (best.pt's step) while it is the best")
    save_step_checkpoint(folder, 4, {"step": torch.tensor(4)}, keep=1, after=3, best=4 if new_best else 1)
    assert _steps(tmp_path) == ([4] if new_best else [1, 4])
