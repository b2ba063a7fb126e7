"""A clip that vanishes mid-run under torchrun, read by a rank other than 0: every rank stops before the step
(none is left waiting in a collective), rank 0 saves the last complete step, and the job says so in one line that
names the clip, though the other rank ends first. Each step, the ranks agree in one collective on both whether to
stop and whether a rank's next batch failed to load."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from hifigan.checkpoints.format import read_checkpoint
from tests.support.files import REPO
from tests.support.marks import LARGE_MEMORY
from tests.support.torchrun import torchrun_two

# Two rank processes and a launcher: never beside another large_memory test.
pytestmark = LARGE_MEMORY
WORKER = REPO / "tests" / "support" / "ddp_vanish_worker.py"


@pytest.fixture(scope="module")
def job(tmp_path_factory, tiny_corpus, tiny_config_json):
    """The job, the corpus it ran on and its run folder: 6 training clips, 3 per rank at batch 1 (3 steps an epoch);
    after step 4 (in epoch 1) rank 1's next clip, in its shard only, is deleted."""
    root = tmp_path_factory.mktemp("vanish")
    corpus = shutil.copytree(tiny_corpus, root / "corpus")
    out = root / "run"
    done = torchrun_two(WORKER, "1", "4", root / "collectives", "train", "--corpus", corpus, "--config",
                        tiny_config_json, "--out", out, "--batch-size", "1", "--max-steps", "6", "--valid-count", "2",
                        "--checkpoint-interval", "0", "--validation-interval", "0", "--log-interval", "1",
                        "--no-progress")
    yield done, corpus, out, root / "collectives"
    shutil.rmtree(root, ignore_errors=True)


def test_a_clip_gone_on_rank_one_stops_every_rank_with_the_last_step_saved_and_one_line(job, tiny_corpus):
    done, corpus, out, _ = job
    gone = sorted(set(os.listdir(tiny_corpus)) - set(os.listdir(corpus)))
    assert len(gone) == 1
    ours = [line for line in done.stderr.splitlines() if line.startswith("hifigan train:")]
    checkpoint = out / "checkpoints" / "ckpt_00000004.pt"
    assert ours == [f"hifigan train: error: {corpus / gone[0]}: no such file (changed since the scan; checkpoint "
                    f"{checkpoint} holds step 4: fix the data, then --resume {out})"], done.stderr[-3000:]
    # torchrun's summary of the failed ranks: both exited 2 (rank 0, ending last, was not stopped by torchrun)
    exits = re.findall(r"^\s*exitcode\s*: (\S+)", done.stderr, re.MULTILINE)
    assert done.returncode != 0 and exits == ["2", "2"], done.stderr[-3000:]
    assert sorted(os.listdir(out / "checkpoints")) == ["ckpt_00000004.pt", "latest.pt"]
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 4


def test_each_step_costs_one_collective_across_an_epoch_boundary(job):
    """Between two steps' hooks each rank calls one all-reduce (the stop and failure agreement), step 4 too, the
    first of epoch 1; the first step's list holds the start's (the listing, the scan) and ends with it."""
    for rank in (0, 1):
        steps = json.loads((job[3] / f"rank{rank}.json").read_text())
        assert len(steps) == 4 and steps[0][-1] == "all_reduce", steps
        assert steps[1:] == [["all_reduce"]] * 3, (rank, steps)
