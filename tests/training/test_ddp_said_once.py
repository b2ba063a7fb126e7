"""Under torchrun the job says what every rank meets at once one time, from rank 0: a run that diverges (every
rank skips the same non-finite steps, the gradient norm being all-reduced) prints one error line, and every rank
exits 2. A refusal before training that one rank alone meets (a file list its node holds empty) is said once too,
naming the rank, and every rank exits 2 (none is left waiting for it in the scan's collective); so is a command-line
error (`torchrun -m hifigan`), which rank 0 alone prints."""

from __future__ import annotations

import os
import re

from tests.support.files import REPO
from tests.support.marks import LARGE_MEMORY
from tests.support.torchrun import torchrun_two

# Two rank processes and a launcher: never beside another large_memory test.
pytestmark = LARGE_MEMORY
WORKER = REPO / "tests" / "support" / "ddp_nan_worker.py"
RANK_ARGS = REPO / "tests" / "support" / "ddp_rank_args_worker.py"


def test_a_divergence_on_every_rank_is_said_once_and_every_rank_exits_2(tmp_path, tiny_corpus, tiny_config_json):
    out = tmp_path / "run"
    done = torchrun_two(WORKER, "1", "1", "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "--out", out,
                        "--batch-size", "1", "--max-steps", "5", "--valid-count", "2", "--max-nonfinite", "2",
                        "--checkpoint-interval", "1", "--validation-interval", "0", "--no-progress")
    lines = done.stderr.splitlines()
    assert [line for line in lines if "non-finite" in line or line.startswith("hifigan train:")] == [
        "step 2: non-finite loss (grad_norm/d=nan, grad_norm/g=nan); update skipped (1 in a row, limit 2)",
        "step 3: non-finite loss (grad_norm/d=nan, grad_norm/g=nan); update skipped (2 in a row, limit 2)",
        "hifigan train: error: training diverged: 2 non-finite steps in a row at step 3 (last checkpoint kept: "
        f"{out / 'checkpoints' / 'ckpt_00000002.pt'}; try a lower learning rate, or fp32)"], done.stderr[-3000:]
    # torchrun's summary of the failed ranks: both exited 2
    exits = re.findall(r"^\s*exitcode\s*: (\S+)", done.stderr, re.MULTILINE)
    assert done.returncode != 0 and exits == ["2", "2"], done.stderr[-3000:]
    assert sorted(os.listdir(out / "checkpoints")) == ["ckpt_00000001.pt", "ckpt_00000002.pt", "latest.pt"]


def test_a_refusal_one_rank_meets_before_training_is_said_once_naming_it(tmp_path, tiny_corpus, tiny_config_json):
    """Rank 1's node holds an empty file list: it refuses while reading it, before the scan's broadcast, where rank
    0 waits; without their meeting first (Agreement.now) both ranks waited for each other until killed."""
    listed = "".join(f"{wav.stem}|text\n" for wav in sorted(tiny_corpus.glob("*.wav")))
    (tmp_path / "list0.txt").write_text(listed)
    (tmp_path / "list1.txt").write_text("\n")
    out = tmp_path / "run"
    done = torchrun_two(RANK_ARGS, "train", "--train-list", tmp_path / "list{rank}.txt", "--wav-root", tiny_corpus,
                        "--valid-count", "2", "--config", tiny_config_json, "--out", out, "--batch-size", "1",
                        "--max-steps", "1", "--no-progress", timeout=120)
    said = [line for line in done.stderr.splitlines() if line.startswith("hifigan")]
    assert said == [f"hifigan train: error: {tmp_path / 'list1.txt'}: file list holds no entries (rank 1 of 2)"], \
        done.stderr[-3000:]
    exits = re.findall(r"^\s*exitcode\s*: (\S+)", done.stderr, re.MULTILINE)
    assert done.returncode != 0 and exits == ["2", "2"], done.stderr[-3000:]


def test_a_command_line_error_is_said_once_and_every_rank_exits_2(tmp_path):
    """`torchrun -m hifigan`: rank 0 alone prints it, the other rank ends at once, silently; each holds torchrun's
    SIGTERM until its start is over, so neither is killed by the other's end (rank 0 before it has said it)."""
    done = torchrun_two("-m", "hifigan", "train", "--corpus", tmp_path, "--out", tmp_path / "run", "--batch-size", "x",
                        timeout=120)
    said = [line for line in done.stderr.splitlines() if line.startswith("hifigan train")]
    assert said == ["hifigan train: error: argument --batch-size: invalid int value: 'x' ('hifigan train --help' "
                    "lists the options)"], done.stderr[-3000:]
    exits = re.findall(r"^\s*exitcode\s*: (\S+)", done.stderr, re.MULTILINE)
    assert done.returncode != 0 and exits == ["2", "2"], done.stderr[-3000:]
