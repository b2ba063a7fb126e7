"""A run's data order: each epoch's clip order and windows drawn from the seed and the epoch, and a resume past
an epoch boundary that continues the straight run exactly (position, schedules, weights)."""

from __future__ import annotations

import warnings

import pytest
import torch

from hifigan.audio import find_audio
from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.clip_scan import scan_clips
from hifigan.training.data_parallel import DistInfo, RunData
from tests.support.files import equal_states
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def test_each_epoch_of_a_run_has_its_own_order_and_windows(tiny_corpus):
    """Epoch e's clips come in torch.randperm(n) seeded with seed + e (DistributedSampler's rule, written out),
    and a clip longer than a segment gets another window in another epoch."""
    for seed in (1234, 7):
        cfg = tiny_config(batch_size=2, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clips = scan_clips(find_audio(tiny_corpus), cfg, cli=True).clips
        data = RunData(cfg, clips, clips[:1], DistInfo(), torch.device("cpu"), cli=True)
        windows = {}
        for epoch in (0, 1):
            batches = list(data.batches(epoch, 0))
            order = [int(i) for b in batches for i in b[3]]
            assert order == torch.randperm(len(clips), generator=torch.Generator().manual_seed(seed + epoch)).tolist()
            windows[epoch] = {int(i): audio for b in batches for i, audio in zip(b[3], b[1])}
        long = [i for i, c in enumerate(clips) if c.num_samples > 2 * cfg.segment_size]
        assert long and all(not torch.equal(windows[0][i], windows[1][i]) for i in long)


def test_a_resume_past_an_epoch_boundary_continues_the_straight_run(tmp_path, tiny_corpus, tiny_config_json):
    """7 steps straight == 4 steps (epoch 1, batch 1 of 3), resume, 3 more: the epoch, the schedules' counts and
    the learning rates (two decays by step 7, in epoch 2) come back with the weights."""
    common = ["train", "--no-progress", "--deterministic", "--corpus", str(tiny_corpus), "--config",
              str(tiny_config_json), "--valid-count", "2", "--disc-start-step", "1", "--validation-interval", "0"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main([*common, "--out", str(straight), "--max-steps", "7"]) == 0
    assert main([*common, "--out", str(split), "--max-steps", "4"]) == 0
    middle = read_checkpoint(split / "checkpoints" / "latest.pt")
    assert (middle["step"], middle["epoch"], middle["batch_in_epoch"]) == (4, 1, 1)
    assert main(["train", "--no-progress", "--resume", str(split), "--max-steps", "7"]) == 0
    a, b = (read_checkpoint(run / "checkpoints" / "latest.pt") for run in (straight, split))
    assert (a["step"], a["epoch"], a["batch_in_epoch"]) == (b["step"], b["epoch"], b["batch_in_epoch"]) == (7, 2, 1)
    for key in ("generator", "mpd", "msd", "optim_g", "optim_d", "sched_g", "sched_d"):
        assert equal_states(a[key], b[key]), key
    for key in ("sched_g", "sched_d"):
        assert b[key]["last_epoch"] == 2, key
    assert b["optim_g"]["param_groups"][0]["lr"] == pytest.approx(2e-4 * 0.999**2, rel=1e-12)


def test_max_steps_at_an_epochs_end_saves_what_epochs_saves_and_resumes_alike(tmp_path, tiny_corpus,
                                                                               tiny_config_json):
    """--max-steps 3 (one epoch: batch 2 of 6 clips) saves what --epochs 1 saves: epoch 1, its first batch next,
    the learning rates decayed once; resuming either to step 4 gives the same state, still decayed once."""
    common = ["train", "--no-progress", "--deterministic", "--corpus", str(tiny_corpus), "--config",
              str(tiny_config_json), "--valid-count", "2", "--disc-start-step", "1", "--validation-interval", "0"]
    by_steps, by_epochs = tmp_path / "steps", tmp_path / "epochs"
    assert main([*common, "--out", str(by_steps), "--max-steps", "3"]) == 0
    assert main([*common, "--out", str(by_epochs), "--epochs", "1", "--max-steps", "100"]) == 0
    for at in (3, 4):
        a, b = (read_checkpoint(run / "checkpoints" / "latest.pt") for run in (by_steps, by_epochs))
        assert (a["step"], a["epoch"], a["batch_in_epoch"]) == (b["step"], b["epoch"], b["batch_in_epoch"]) == \
            (at, 1, at - 3)
        for key in ("generator", "mpd", "msd", "optim_g", "optim_d", "sched_g", "sched_d"):
            assert equal_states(a[key], b[key]), (at, key)
        assert a["optim_g"]["param_groups"][0]["lr"] == pytest.approx(2e-4 * 0.999, rel=1e-12)
        if at == 3:
            for run in (by_steps, by_epochs):
                assert main(["train", "--no-progress", "--resume", str(run), "--max-steps", "4", "--epochs",
                             "2"]) == 0  # by_epochs's own target, --epochs 1, would keep it at step 3
