"""gpu_check, the whole training loop: does `hifigan train` keep up with its step?

On the bundled corpus repeated to a few thousand clips (copies, each under its own name), V1 at the paper's batch
with the config's DataLoader workers, the loop of `Trainer.fit` (what `hifigan train` runs) at the default log,
validation and checkpoint intervals, against the step alone on batches already in memory:
- the loop's mean seconds per step after warm-up (data loading, logging and epoch boundaries included);
- the validation and checkpoint that end the run, timed and spread over their default intervals;
- the DataLoader alone (batches per second), so a slow loop says whether the data is what holds it back.
Target (issue 24): the loop's steps per second within 10% of the step's.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from gpu_timing import timed_call
from gpu_training import VALID, batches, train_config

from hifigan import Trainer, TrainOptions
from hifigan.audio import find_audio
from hifigan.config import config_from_dict
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.training.options import default

COPIES = 100  # 24 bundled clips -> 2400
TARGET = 0.9  # the loop's steps per second over the step's


def repeated_corpus(settings, copies: int) -> Path:
    """A folder of `copies` copies of each bundled clip (7 MB of clips: 0.7 GB at 100), each under its own name: a
    corpus lists a file reached through symbolic or hard links once (hifigan.data.real_files), so links would not
    repeat."""
    folder = settings.work / "pipeline-corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for clip in find_audio(settings.corpus, recursive=True):
        for k in range(copies):
            copy = folder / f"{clip.stem}_{k:03d}{clip.suffix}"
            if not copy.exists() or copy.stat().st_nlink > 1:  # a hard link left by an earlier version of this check
                copy.unlink(missing_ok=True)
                shutil.copyfile(clip, copy)
    return folder


def pipeline(settings, cuda_graph: bool = False) -> dict[str, Any]:
    """The loop against the step (see the module docstring); `cuda_graph`: both with the step replayed from a CUDA
    graph (`hifigan train --cuda-graph`)."""
    quick = settings.quick
    corpus = repeated_corpus(settings, 2 if quick else COPIES)
    base = train_config(settings)
    config = config_from_dict({**base.to_dict(), "num_workers": 2 if quick else 4})  # V1's own: 4
    steps, warm = (8, 4) if quick else (200, 20)
    train, valid = Corpus(folder=corpus, valid_count=VALID * (2 if quick else 10)).resolve(config.seed)
    train_clips = scan_clips(train, config, resample=True, cli=False).clips
    valid_clips = scan_clips(valid, config, resample=True, cli=False).clips

    def trainer(name: str, **options: Any) -> Trainer:
        return Trainer(config, train_clips, valid_clips,
                       TrainOptions(out=settings.work / name, device=str(settings.device), progress=False,
                                    resample=True, cuda_graph=cuda_graph, **options))

    alone = trainer("pipeline-step", checkpoint_interval=0, validation_interval=0)
    data = batches(alone, 4)
    timed = 2 if quick else 8  # the step alone's median: of the steps after warm // 2 untimed
    times = [timed_call(settings.device, alone.train_step, data[i % len(data)])[0] for i in range(warm // 2 + timed)]
    step_s = statistics.median(times[warm // 2:])
    loader_s = _loader_seconds(alone, 3 if quick else 40)
    alone.close()

    loop = trainer("pipeline-loop")  # the default intervals: log 10, validation 1000, checkpoint 5000
    stamps: list[float] = []
    began = time.perf_counter()
    loop.fit(max_steps=steps, on_step=lambda *_: stamps.append(time.perf_counter()))
    ended = time.perf_counter()  # after the final validation and checkpoint
    loop.close()
    loop_s = (stamps[-1] - stamps[warm - 1]) / (steps - warm)
    tail_s = ended - stamps[-1]
    projected = loop_s + tail_s / default("validation_interval")  # the checkpoint at most this often too
    return {"cuda_graph": cuda_graph, "clips": len(train_clips), "batch": config.batch_size,
            "segment": config.segment_size,
            "workers": config.num_workers, "steps": steps, "step_alone_s": step_s, "loop_step_s": loop_s,
            "first_step_s": stamps[0] - began, "validation_and_checkpoint_s": tail_s,
            "loop_step_at_default_intervals_s": projected, "loader_batch_s": loader_s,
            "ratio": step_s / projected, "target": TARGET, "target_met": step_s / projected >= TARGET,
            "failures": []}


def _loader_seconds(trainer: Trainer, count: int) -> float:
    """Mean seconds per batch of the DataLoader alone (workers started, first batch excluded), to the device."""
    it = iter(trainer.loader)
    next(it)
    start = time.perf_counter()
    for _ in range(count):
        batch = next(it)
        for t in batch[:3]:
            t.to(trainer.device, non_blocking=True)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize(trainer.device)
    return (time.perf_counter() - start) / count
