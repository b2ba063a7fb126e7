"""Run by tests/training/test_ddp_said_once.py under torchrun: `hifigan train ARGS...` as the command line runs it
(hifigan.cli.main, its one-line errors and exit codes), where rank RANK's generator weights turn NaN after step
STEP: every rank then skips the following steps (the gradient norm is all-reduced) and the run diverges on every
rank at once. The NaN comes through the run's public per-step hook, added to the job the command line builds.

usage: torchrun --nproc_per_node N tests/support/ddp_nan_worker.py RANK STEP ARGS...
"""

from __future__ import annotations

import dataclasses
import math
import sys

import torch

import hifigan.training.job as job_module
from hifigan.cli import main

RANK, STEP = int(sys.argv[1]), int(sys.argv[2])
train = job_module.train


def nan_weights(trainer, batch, result) -> None:
    if trainer.dist.rank == RANK and trainer.step == STEP:
        with torch.no_grad():
            next(trainer.generator.parameters()).fill_(math.nan)


job_module.train = lambda job: train(dataclasses.replace(job, on_step=nan_weights))
sys.exit(main(sys.argv[3:]))
