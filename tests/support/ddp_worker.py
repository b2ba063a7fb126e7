"""Run by tests/training/test_distributed.py under torchrun: the job `hifigan train ARGS...` describes, through the
library
(hifigan.training.job.train), each rank recording through the public per-step hook which clips it trained on and
its generator after its last step (and how many audio files its scan read, the checkpoint it wrote, the step it
last validated at), into SEEN_DIR/rank<r>.json and SEEN_DIR/rank<r>_generator.pt. Its validations log no media
(media_clips 0: no mel image drawn), which no test here reads.

usage: torchrun --nproc_per_node N tests/support/ddp_worker.py SEEN_DIR ARGS...
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import torch

from hifigan.cli import build_parser
from hifigan.cli.train import train_job
from hifigan.training.data_parallel import end_worker_process
from hifigan.training.job import train


def main(seen_dir: Path, argv: list[str]) -> None:
    steps: list[list[str]] = []
    generator: dict[str, torch.Tensor] = {}
    trainers = []

    def record(trainer, batch, result) -> None:
        trainers[:] = [trainer]
        steps.append([trainer.train_set.clips[int(i)].id for i in batch[3]])
        generator.update({k: v.detach().clone() for k, v in trainer.generator.state_dict().items()})

    job = train_job(build_parser().parse_args(["train", *argv]))
    options = dataclasses.replace(job.options, media_clips=0)  # what a validation scores, not TensorBoard's images
    result = train(dataclasses.replace(job, options=options, on_step=record))
    rank = int(os.environ["RANK"])
    seen_dir.mkdir(parents=True, exist_ok=True)
    record = {"rank": rank, "steps": steps, "files_read": result.files_read,
              "checkpoint": None if result.checkpoint is None else str(result.checkpoint),
              "validated": trainers[0].last_validated_step}
    (seen_dir / f"rank{rank}.json").write_text(json.dumps(record))
    torch.save(generator, seen_dir / f"rank{rank}_generator.pt")
    end_worker_process(0)  # as `hifigan train` ends under torchrun


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
