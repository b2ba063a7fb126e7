"""Run by tests/training/test_ddp_vanished_clip.py under torchrun: `hifigan train ARGS...` as the command line runs
it (hifigan.cli.main, its one-line errors and exit codes), where rank RANK, after step STEP, deletes the clip that
its next batch starts with (a clip gone from the corpus mid-run, read by that rank only: the ranks' shards of an
epoch are disjoint). The deletion is the run's public per-step hook, added to the job the command line builds.

usage: torchrun --nproc_per_node N tests/support/ddp_vanish_worker.py RANK STEP ARGS...
"""

from __future__ import annotations

import dataclasses
import sys

from torch.utils.data import DistributedSampler

import hifigan.training.job as job_module
from hifigan.cli import main

RANK, STEP = int(sys.argv[1]), int(sys.argv[2])
train = job_module.train


def delete_next_clip(trainer, batch, result) -> None:
    if trainer.dist.rank == RANK and trainer.step == STEP:
        order = list(DistributedSampler.__iter__(trainer.sampler))  # this rank's shard of the epoch, in order
        trainer.train_set.clips[order[trainer.state.batch_in_epoch * trainer.config.batch_size]].path.unlink()


job_module.train = lambda job: train(dataclasses.replace(job, on_step=delete_next_clip))
sys.exit(main(sys.argv[3:]))
