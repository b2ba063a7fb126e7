"""`TrainOptions`: how a run is carried out (the model and data hyperparameters live in HifiganConfig). Without
torch, so `hifigan train --help` takes its defaults and choices from here."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PRECISIONS = ("fp32", "bf16")  # training autocasts to bf16 only (fp16 would need loss scaling)


@dataclass
class TrainOptions:
    """How to run training (the model and data hyperparameters live in HifiganConfig)."""

    out: Path
    device: str = "cpu"
    precision: str = "fp32"
    checkpoint_interval: int = 5000
    validation_interval: int = 1000
    log_interval: int = 10
    keep: int = 3
    max_nonfinite: int = 10
    deterministic: bool = False
    progress: bool = True
    resample: bool = False
    mix_to_mono: bool = False
    media_clips: int = 3  # validation clips whose audio and mel images go to TensorBoard


def default(name: str) -> Any:
    """The default of one TrainOptions field (the CLI's defaults are these, not copies)."""
    return next(f.default for f in fields(TrainOptions) if f.name == name)
