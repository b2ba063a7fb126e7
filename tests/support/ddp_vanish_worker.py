"""Run by tests/training/test_ddp_vanished_clip.py under torchrun: `hifigan train ARGS...` as the command line runs
it (hifigan.cli.main, its one-line errors and exit codes), where rank RANK, after step STEP, deletes the clip that
its next batch starts with (a clip gone from the corpus mid-run, read by that rank only: the ranks' shards of an
epoch are disjoint). The deletion is the run's public per-step hook, added to the job the command line builds.

Each rank also records the collectives its process calls (torch.distributed's, named, then run as they are): at each
step's hook, those called since the previous hook (or since the start), a list per step in COUNTS_DIR/rank<r>.json.
Rank 0 takes a second more to close its run's log (a slow disk), so the other rank ends first.

usage: torchrun --nproc_per_node N tests/support/ddp_vanish_worker.py RANK STEP COUNTS_DIR ARGS...
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DistributedSampler

import hifigan.training.job as job_module
from hifigan.cli import main
from hifigan.training.trainer import Trainer

RANK, STEP, COUNTS_DIR = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
COLLECTIVES = ("all_reduce", "broadcast_object_list", "all_gather_object", "barrier", "broadcast")
called: list[str] = []
train, close = job_module.train, Trainer.close


def counted(name: str):
    run = getattr(torch.distributed, name)

    def collective(*args, **kwargs):
        called.append(name)
        return run(*args, **kwargs)
    return collective


def delete_next_clip(trainer, batch, result) -> None:
    path = COUNTS_DIR / f"rank{trainer.dist.rank}.json"
    path.write_text(json.dumps([*(json.loads(path.read_text()) if path.exists() else []), called.copy()]))
    called.clear()
    if trainer.dist.rank == RANK and trainer.step == STEP:
        order = list(DistributedSampler.__iter__(trainer.sampler))  # this rank's shard of the epoch, in order
        trainer.train_set.clips[order[trainer.state.batch_in_epoch * trainer.config.batch_size]].path.unlink()


def slow_close(trainer) -> None:
    if trainer.log is not None:
        time.sleep(1)
    close(trainer)


for name in COLLECTIVES:
    setattr(torch.distributed, name, counted(name))
Trainer.close = slow_close
COUNTS_DIR.mkdir(parents=True, exist_ok=True)
job_module.train = lambda job: train(dataclasses.replace(job, on_step=delete_next_clip))
sys.exit(main(sys.argv[4:]))
