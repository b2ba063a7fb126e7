"""Run by tests/training/test_ddp_failed_write.py under torchrun: `hifigan train ARGS...` as the command line runs
it (hifigan.cli.main, its one-line errors and exit codes), where rank 0's disk fills after step STEP: a file-size
limit (tests/support/full_disk.py) of LIMIT bytes, or `log`: log.jsonl's size then, so that its next log write fails
(TensorBoard's events file, larger, or log.jsonl). The limit comes through the run's public per-step hook.

usage: torchrun --nproc_per_node N tests/support/ddp_full_disk_worker.py STEP LIMIT ARGS...
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.support (run as a script)

import hifigan.training.job as job_module
from hifigan.cli import main
from tests.support.full_disk import file_size_limit

STEP, LIMIT = int(sys.argv[1]), sys.argv[2]
train = job_module.train
full = contextlib.ExitStack()  # kept open to the end (a context manager collected would lift the limit)


def fill_disk(trainer, batch, result) -> None:
    if trainer.dist.is_main and trainer.step == STEP:
        log = Path(trainer.options.out) / "log.jsonl"
        full.enter_context(file_size_limit(log.stat().st_size if LIMIT == "log" else int(LIMIT)))


job_module.train = lambda job: train(dataclasses.replace(job, on_step=fill_disk))
sys.exit(main(sys.argv[3:]))
