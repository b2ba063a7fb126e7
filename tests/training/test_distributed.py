"""DistributedDataParallel: 2 CPU processes (gloo) under torchrun train exactly what 1 process trains on the
same global batch, each rank on its own shard, rank 0 alone scans the corpus (the others read no file), logs and
saves. The ranks run `hifigan train`'s job through the library (tests/support/ddp_worker.py) and report what
they trained on through the public per-step hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from hifigan.runtime import torchrun_start
from hifigan.training import data_parallel
from tests.support.ddp_compare import COMMON, WORKER, assert_trained_alike, latest, train_in_one_process
from tests.support.marks import LARGE_MEMORY
from tests.support.torchrun import torchrun_two

# Two rank processes and a launcher beside the worker: never beside another large_memory test.
pytestmark = LARGE_MEMORY


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_corpus, tiny_config_json):
    """The same training as 2 processes x batch 2 and as 1 process x batch 4, and the initial state."""
    root = tmp_path_factory.mktemp("ddp")
    data = ["--corpus", str(tiny_corpus), "--config", str(tiny_config_json)]
    done = torchrun_two(WORKER, root / "seen", *data, *COMMON, "--batch-size", "2", "--out", root / "two",
                        "--validation-interval", "2")  # validation leaves the weights alone: the 1-process run skips it
    assert done.returncode == 0, done.stderr[-3000:]
    train_in_one_process(data, root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_two_processes_train_what_one_process_trains_on_the_same_global_batch(runs):
    assert_trained_alike(latest(runs / "two"), latest(runs / "one"), latest(runs / "init"), world_size=2)


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
    saved = latest(run)
    assert all(torch.equal(saved["generator"][k], weights[0][k]) for k in weights[0])
    records = [json.loads((seen_dir / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["files_read"] for r in records] == [8, 0]
    assert [r["checkpoint"] for r in records] == [str(run / "checkpoints" / "ckpt_00000002.pt"), None]
    assert [r["validated"] for r in records] == [2, -1]  # rank 0 validated at step 2; rank 1 never
    assert any("val/mel_l1" in line for line in (run / "log.jsonl").read_text().splitlines())


def test_a_worker_ends_with_its_code_and_every_line_it_wrote():
    """end_worker_process skips the interpreter's finalization (where DDP's gloo threads can abort a finished run) but
    keeps the exit code and flushes what the output streams still hold. The process imports it from its own module,
    which imports no torch (~1.7 s of CPU less); training.data_parallel's name is the same function."""
    assert data_parallel.end_worker_process is torchrun_start.end_worker_process
    script = ("import sys; from hifigan.runtime.torchrun_start import end_worker_process; "
              "print('out', end=''); sys.stderr.write('err'); end_worker_process(3)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as torchrun's workers are
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out", "err")

