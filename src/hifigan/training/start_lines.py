"""What `hifigan train` says of its model and run before the first step, after the data lines (training.job): the
parameter counts and the config they came from, then the run folder, the device, precision and threads, and where
the run will stop (training.stop_rules.stop_plan)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from hifigan.checkpoints.contents import official_config_beside
from hifigan.config import HifiganConfig
from hifigan.option_names import setting
from hifigan.plural import count
from hifigan.training.options import TrainJob
from hifigan.training.stop_rules import stop_plan
from hifigan.training.trainer import Trainer


def parameters(*modules: nn.Module) -> str:
    """The modules' parameter count (as trained: weight norm's g and v), in millions (thousands below one)."""
    n = sum(p.numel() for m in modules for p in m.parameters())
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def config_source(job: TrainJob, resumed: bool, configless: str | None = None) -> str:
    """Where the run's config came from, in words; `configless`: what --init-from is where it carries no config
    ("an official g_* file", "a generator's bare state dict"), so the config is the job's alone (a partial file's
    other keys V1's; none given: the official config.json beside the file, else V1), not laid over the file's."""
    given = job.config
    if resumed:
        return "the run's (its checkpoint's)"
    words = "a HifiganConfig" if isinstance(given, HifiganConfig) else None if given is None else os.fspath(given)
    if job.init_from is None:
        return words or "v1 (the default)"
    start = setting("init_from", job.init_from, job.cli)
    if configless:
        beside = None if words else official_config_beside(job.init_from)  # what CheckpointContents.config reads
        return (f"{words or beside or 'v1 (the default)'} ({start} is {configless}, which carries no config"
                f"{': the config.json beside it' if beside else ''})")
    return f"{words} over {start}'s" if words else f"{start}'s"


def device_words(trainer: Trainer) -> str:
    """The device, precision and (on the CPU) torch's threads; the processes under torchrun."""
    device = trainer.device
    where = f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)
    threads = f", {count(torch.get_num_threads(), 'thread')}" if device.type == "cpu" else ""
    ranks = f", {trainer.dist.world_size} processes" if trainer.dist.active and trainer.dist.world_size > 1 else ""
    return f"{where}, {trainer.options.precision}{threads}{ranks}"


def start_lines(trainer: Trainer, job: TrainJob, resumed: bool, configless: str | None = None) -> list[str]:
    """The model line and the run line (`configless`: see config_source)."""
    parts = trainer.discriminators
    stops = stop_plan(job.max_steps, job.epochs, job.max_minutes, trainer.state, trainer.steps_per_epoch, job.cli)
    return [f"model: generator {parameters(trainer.generator)} parameters, discriminators "
            f"{parameters(*parts.values())} ({', '.join(parts)}); config {config_source(job, resumed, configless)}",
            f"run: {Path(trainer.options.out)} on {device_words(trainer)}; {stops}"]
