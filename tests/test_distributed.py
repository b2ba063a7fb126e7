"""DistributedDataParallel: 2 CPU processes (gloo) under torchrun keep identical weights on different shards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from hifigan.checkpoint import read_checkpoint
from hifigan.train import DEBUG_DIR_ENV


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    """Training runs hold ~1 GB checkpoints (the discriminators have fixed official sizes): drop them after use."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_two_process_gloo_training(tmp_path, tiny_corpus, tiny_config_json):
    debug, run = tmp_path / "debug", tmp_path / "run"
    env = {**os.environ, DEBUG_DIR_ENV: str(debug), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "hifigan", "train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json),
           "--out", str(run), "--max-steps", "2", "--disc-start-step", "1", "--valid-count", "2",
           "--checkpoint-interval", "0", "--validation-interval", "0", "--log-interval", "1", "--no-progress"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    seen = [json.loads((debug / f"rank{r}.json").read_text())["steps"] for r in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 2
    for step0, step1 in zip(*seen):  # each step, the ranks train on different clips
        assert not set(step0) & set(step1)
    weights = [torch.load(debug / f"rank{r}_generator.pt", weights_only=True) for r in (0, 1)]
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key

    # Rank 0 alone logs and checkpoints; its checkpoint holds the common weights.
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines() if "g/total" in line]
    assert steps == [1, 2]
    saved = read_checkpoint(run / "checkpoints" / "latest.pt")
    assert saved["step"] == 2 and saved["world_size"] == 2 and saved["optim_d"]["state"]
    assert all(torch.equal(saved["generator"][k], weights[0][k]) for k in weights[0])
