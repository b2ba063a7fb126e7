"""What `hifigan train` says of its model and run before the first step, after the data lines (training.job): the
parameter counts and the config they came from, then the run folder, the device, precision and threads, and where
the run will stop (training.stop_rules.stop_plan)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from hifigan.config import HifiganConfig
from hifigan.messages.option_names import setting
from hifigan.messages.plural import count
from hifigan.training.config_choice import DEFAULT, ConfigChoice
from hifigan.training.options import TrainJob
from hifigan.training.stop_rules import stop_plan
from hifigan.training.trainer import Trainer


def parameters(*modules: nn.Module) -> str:
    """The modules' parameter count (as trained: weight norm's g and v), in millions (thousands below one)."""
    n = sum(p.numel() for m in modules for p in m.parameters())
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def config_source(job: TrainJob, choice: ConfigChoice) -> str:
    """Where the run's config came from (`choice`, as training.config_choice decided it), in words: where
    --init-from carries no config, the config is the job's alone (or the config.json beside the file, or V1), not
    laid over the file's."""
    given = job.config
    if choice.resumed:
        return "the run's (its checkpoint's)"
    words = "a HifiganConfig" if isinstance(given, HifiganConfig) else None if given is None else os.fspath(given)
    if job.init_from is None:
        return words or f"{DEFAULT} (the default)"
    start = setting("init_from", job.init_from, job.cli)
    if choice.configless:
        return (f"{words or choice.beside or f'{DEFAULT} (the default)'} ({start} is {choice.configless}, which "
                f"carries no config{': the config.json beside it' if choice.beside else ''})")
    return f"{words} over {start}'s" if words else f"{start}'s"


def device_words(trainer: Trainer) -> str:
    """The device, precision and (on the CPU) torch's threads; the processes under torchrun."""
    device = trainer.device
    where = f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)
    threads = f", {count(torch.get_num_threads(), 'thread')}" if device.type == "cpu" else ""
    ranks = f", {trainer.dist.world_size} processes" if trainer.dist.active and trainer.dist.world_size > 1 else ""
    return f"{where}, {trainer.options.precision}{threads}{ranks}"


def start_lines(trainer: Trainer, job: TrainJob, choice: ConfigChoice) -> list[str]:
    """The model line (its config: `choice`, in config_source's words) and the run line."""
    parts = trainer.discriminators
    stops = stop_plan(job.max_steps, job.epochs, job.max_minutes, trainer.state, trainer.steps_per_epoch, job.cli)
    return [f"model: generator {parameters(trainer.generator)} parameters, discriminators "
            f"{parameters(*parts.values())} ({', '.join(parts)}); config {config_source(job, choice)}",
            f"run: {Path(trainer.options.out)} on {device_words(trainer)}; {stops}"]
