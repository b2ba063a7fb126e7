"""A clip that vanishes mid-run under torchrun, read by a rank other than 0: every rank stops before the step
(none is left waiting in a collective), rank 0 saves the last complete step, and the job says so in one line that
names the clip."""

from __future__ import annotations

import os
import shutil

from hifigan.checkpoints.format import read_checkpoint
from tests.support.files import REPO
from tests.support.marks import LARGE_MEMORY
from tests.support.torchrun import torchrun_two

# Two rank processes and a launcher: never beside another large_memory test.
pytestmark = LARGE_MEMORY
WORKER = REPO / "tests" / "support" / "ddp_vanish_worker.py"


def test_a_clip_gone_on_rank_one_stops_every_rank_with_the_last_step_saved_and_one_line(
        tmp_path, tiny_corpus, tiny_config_json):
    corpus = shutil.copytree(tiny_corpus, tmp_path / "corpus")
    out = tmp_path / "run"
    # 6 training clips, 3 per rank at batch 1: after step 1 rank 1's next clip is in its shard only.
    done = torchrun_two(WORKER, "1", "1", "train", "--corpus", corpus, "--config", tiny_config_json, "--out", out,
                        "--batch-size", "1", "--max-steps", "5", "--valid-count", "2", "--checkpoint-interval", "0",
                        "--validation-interval", "0", "--log-interval", "1", "--no-progress")
    gone = sorted(set(os.listdir(tiny_corpus)) - set(os.listdir(corpus)))
    assert len(gone) == 1
    ours = [line for line in done.stderr.splitlines() if line.startswith("hifigan train:")]
    checkpoint = out / "checkpoints" / "ckpt_00000001.pt"
    assert ours == [f"hifigan train: error: {corpus / gone[0]}: no such file (changed since the scan; checkpoint "
                    f"{checkpoint} holds step 1: fix the data, then --resume {out})"], done.stderr[-3000:]
    assert done.returncode != 0
    assert sorted(os.listdir(out / "checkpoints")) == ["ckpt_00000001.pt", "latest.pt"]
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 1
