"""Under torchrun a write that fails on rank 0 (its log or a checkpoint, a full disk) stops every rank at once, at
the step's one collective, with one line: rank 0's WriteError naming the file and the newest checkpoint, kept.
Raised by rank 0 alone, it left the other rank in a collective rank 0 never joined: with gloo that rank failed on its
own line ('internal error: RuntimeError: ... Connection reset by peer', exit 1) once rank 0's sockets closed."""

from __future__ import annotations

import os
import re

import pytest

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.errors import WriteError
from tests.support.files import REPO
from tests.support.full_disk import file_size_limit
from tests.support.marks import LARGE_MEMORY
from tests.support.tiny import tiny_config
from tests.support.torchrun import torchrun_two

# Two rank processes and a launcher: never beside another large_memory test.
pytestmark = LARGE_MEMORY
WORKER = REPO / "tests" / "support" / "ddp_full_disk_worker.py"


def test_a_write_failing_on_rank_zero_stops_every_rank_with_one_line(tmp_path, tiny_corpus, tiny_config_json):
    """Rank 0's disk fills after step 3: its next write (step 4's log record) fails; both ranks exit 2 within a short
    timeout, the job says it once, with rank 0's failed try to save step 4, and step 2's checkpoint stays the newest.
    (A checkpoint write goes through the same hold: the in-process test below, a torchrun job of its own being 11 s
    of the suite.)"""
    limit, failed = "log", r"(log\.jsonl|logs/events\.out\.tfevents\.[^:]+)"  # whichever of its files writes first
    out = tmp_path / "run"
    done = torchrun_two(WORKER, "3", limit, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "--out",
                        out, "--batch-size", "1", "--max-steps", "8", "--valid-count", "2", "--checkpoint-interval",
                        "2", "--validation-interval", "0", "--log-interval", "1", "--no-progress", timeout=150)
    ours = [line for line in done.stderr.splitlines() if line.startswith("hifigan train:")]
    checkpoint = out / "checkpoints" / "ckpt_00000002.pt"
    line = (rf"hifigan train: error: {re.escape(str(out))}/{failed}: cannot write \([^)]+\); saving step 4 failed too: "
            rf"the run stopped, and its "
            rf"newest checkpoint is {re.escape(str(checkpoint))} \(raise the file-size limit, then --resume "
            rf"{re.escape(str(out))}\)")
    assert len(ours) == 1 and re.fullmatch(line, ours[0]), done.stderr[-3000:]
    # torchrun's summary of the failed ranks: both exited 2
    exits = re.findall(r"^\s*exitcode\s*: (\S+)", done.stderr, re.MULTILINE)
    assert done.returncode != 0 and exits == ["2", "2"], done.stderr[-3000:]
    assert sorted(os.listdir(out / "checkpoints")) == ["ckpt_00000002.pt", "latest.pt"]
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 2


def test_a_checkpoint_write_that_fails_while_held_is_kept_and_later_writes_skipped(tmp_path, tiny_corpus):
    """Holding (a job of several ranks): a checkpoint write that fails is kept for the ranks' next agreement, not
    raised on rank 0 alone, and no write runs after it; not holding (one process), the same write raises."""
    cfg = tiny_config()
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path / "run", progress=False, checkpoint_interval=0, validation_interval=0))
    trainer.open_log()
    trainer.state.step = 1
    with trainer.writes.holding(True), file_size_limit(100_000):  # the log's first lines fit, a checkpoint does not
        assert trainer.save_checkpoint() is None
        failed = trainer.writes.failed
        assert failed is not None and failed.path == str(trainer.ckpt_dir / "ckpt_00000001.pt")
        trainer.state.step = 2
        assert trainer.save_checkpoint() is None and trainer.writes.failed is failed  # skipped, not tried
    assert sorted(p.name for p in trainer.ckpt_dir.iterdir()) == []
    with file_size_limit(100_000), pytest.raises(WriteError):
        trainer.save_checkpoint()
    trainer.close()
