"""Under torchrun a write that fails on rank 0 (its log or a checkpoint, a full disk) stops every rank at once, at
the step's one collective, with one line: rank 0's WriteError naming the file and the newest checkpoint, kept.
Raised by rank 0 alone, it left the other rank in a collective rank 0 never joined: with gloo that rank failed on its
own line ('internal error: RuntimeError: ... Connection reset by peer', exit 1) once rank 0's sockets closed."""

from __future__ import annotations

import os
import re

import pytest

from hifigan.checkpoints.format import read_checkpoint
from tests.support.files import REPO
from tests.support.marks import LARGE_MEMORY
from tests.support.torchrun import torchrun_two

# Two rank processes and a launcher: never beside another large_memory test.
pytestmark = LARGE_MEMORY
WORKER = REPO / "tests" / "support" / "ddp_full_disk_worker.py"


@pytest.mark.parametrize(("limit", "failed"), [
    ("log", r"(log\.jsonl|logs/events\.out\.tfevents\.[^:]+)"),  # the log, whichever of its files writes first
    ("1000000", r"checkpoints/ckpt_00000004\.pt"),  # the logs fit, step 4's checkpoint (1.8 MB) does not
])
def test_a_write_failing_on_rank_zero_stops_every_rank_with_one_line(tmp_path, tiny_corpus, tiny_config_json, limit,
                                                                     failed):
    """Rank 0's disk fills after step 3: its next write (step 4's log record, or step 4's checkpoint) fails; both
    ranks exit 2 within a short timeout, the job says it once, and step 2's checkpoint stays the newest."""
    out = tmp_path / "run"
    done = torchrun_two(WORKER, "3", limit, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "--out",
                        out, "--batch-size", "1", "--max-steps", "8", "--valid-count", "2", "--checkpoint-interval",
                        "2", "--validation-interval", "0", "--log-interval", "1", "--no-progress", timeout=150)
    ours = [line for line in done.stderr.splitlines() if line.startswith("hifigan train:")]
    checkpoint = out / "checkpoints" / "ckpt_00000002.pt"
    line = (rf"hifigan train: error: {re.escape(str(out))}/{failed}: cannot write \([^)]+\): the run stopped, and its "
            rf"newest checkpoint is {re.escape(str(checkpoint))} \(make room, then --resume {re.escape(str(out))}\)")
    assert len(ours) == 1 and re.fullmatch(line, ours[0]), done.stderr[-3000:]
    # torchrun's summary of the failed ranks: both exited 2
    exits = re.findall(r"^\s*exitcode\s*: (\S+)", done.stderr, re.MULTILINE)
    assert done.returncode != 0 and exits == ["2", "2"], done.stderr[-3000:]
    assert sorted(os.listdir(out / "checkpoints")) == ["ckpt_00000002.pt", "latest.pt"]
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 2
