"""DistributedDataParallel: 2 CPU processes (gloo) under torchrun train exactly what 1 process trains on the
same global batch, each rank on its own shard, and rank 0 alone logs and saves. The ranks run `hifigan train`'s
job through the library (tests/support/ddp_worker.py) and report what they trained on through the public per-step
hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from tests.support.files import REPO
from tests.support.marks import LARGE_MEMORY

pytestmark = LARGE_MEMORY  # processes training side by side

# 6 training clips: per step, 2 ranks x 2 clips or 1 process x 4 clips (the same 4: DistributedSampler deals
# one shuffled order round-robin), one step per epoch; both steps train the discriminators.
COMMON = ["--max-steps", "2", "--disc-start-step", "0", "--valid-count", "2", "--checkpoint-interval", "0",
          "--validation-interval", "0", "--log-interval", "1", "--no-progress"]
# Distances between the two runs, relative to how far training moved (weights) or to the size (Adam moments).
# Averaging gradients over 2 ranks differs from the 1-process gradient by float rounding: measured <= 1.1e-6
# with the official widths, <= 1.2e-6 with tests/support/tiny.py's (what runs here). Planted bugs measured, official
# widths: an unsynchronised MPD 0.44, MSD 0.15, summed gradients 0.035 (MPD weights); tiny widths: unsynchronised
# MPD 0.29, summed gradients 0.0065 (MPD weights) and 1.0 (the Adam moments).
MATCH = 1e-4
WORKER = REPO / "tests" / "support" / "ddp_worker.py"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_corpus, tiny_config_json):
    """The same training as 2 processes x batch 2 and as 1 process x batch 4, and the initial state."""
    root = tmp_path_factory.mktemp("ddp")
    data = ["--corpus", str(tiny_corpus), "--config", str(tiny_config_json)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(WORKER), str(root / "seen"), *data, *COMMON, "--batch-size", "2", "--out", str(root / "two")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["train", *data, *COMMON, "--batch-size", "4", "--out", str(root / "one")]) == 0
        assert main(["train", *data, *COMMON, "--max-steps", "0", "--out", str(root / "init")]) == 0
    finally:
        torch.set_num_threads(before)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _latest(run: Path) -> dict:
    return read_checkpoint(run / "checkpoints" / "latest.pt")


def _distance(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Euclidean distance between two states with the same keys (all floating tensors together)."""
    assert a.keys() == b.keys()
    return sum(float(torch.linalg.vector_norm(a[k] - b[k])) ** 2 for k in a if a[k].is_floating_point()) ** 0.5


def _moments(optim_state: dict, key: str) -> dict[str, torch.Tensor]:
    return {str(i): s[key] for i, s in optim_state["state"].items()}


def test_two_processes_train_what_one_process_trains_on_the_same_global_batch(runs):
    two, one, init = _latest(runs / "two"), _latest(runs / "one"), _latest(runs / "init")
    assert two["step"] == one["step"] == 2 and init["step"] == 0
    assert (two["world_size"], one["world_size"]) == (2, 1)
    for model in ("generator", "mpd", "msd"):
        moved = _distance(one[model], init[model])
        assert moved > 0, f"{model} did not train"
        assert _distance(two[model], one[model]) < MATCH * moved, model
        # (the spectral norm's power-iteration vectors are buffers; conv_post's is the 1-element vector [1])
        params = [k for k, v in init[model].items() if v.is_floating_point() and not k.endswith(("._u", "._v"))]
        unchanged = [k for k in params if torch.equal(one[model][k], init[model][k])]
        assert not unchanged, f"{model}: {unchanged[:3]} never updated"
    for optim in ("optim_g", "optim_d"):
        assert two[optim]["state"].keys() == one[optim]["state"].keys() and one[optim]["state"]
        for key in ("exp_avg", "exp_avg_sq"):
            a, b = _moments(two[optim], key), _moments(one[optim], key)
            size = sum(float(torch.linalg.vector_norm(v)) ** 2 for v in b.values()) ** 0.5
            assert _distance(a, b) < MATCH * size, (optim, key)
        steps = {float(s["step"]) for s in two[optim]["state"].values()}
        assert steps == {float(s["step"]) for s in one[optim]["state"].values()} == {2.0}
        assert two[optim]["param_groups"][0]["lr"] == one[optim]["param_groups"][0]["lr"]


def test_each_rank_trains_its_own_shard_and_rank_zero_alone_writes(runs):
    seen_dir = runs / "seen"
    seen = [json.loads((seen_dir / f"rank{r}.json").read_text())["steps"] for r in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 2
    for step0, step1 in zip(*seen):  # each step, the ranks train on different clips
        assert len(step0) == len(step1) == 2 and not set(step0) & set(step1)
    weights = [torch.load(seen_dir / f"rank{r}_generator.pt", weights_only=True) for r in (0, 1)]
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key

    run = runs / "two"
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines() if "g/total" in line]
    assert steps == [1, 2]
    saved = _latest(run)
    assert all(torch.equal(saved["generator"][k], weights[0][k]) for k in weights[0])
