"""Training: the official HiFi-GAN loop (discriminator step, then generator step) with exact resume,
DistributedDataParallel, logs, and recovery from interrupts and non-finite losses; `hifigan train`.

The code lives in the `hifigan.training` package (state, step, loop, parts, losses, checkpoint files, ...);
this module keeps the public names the README documents importable from here.
"""

from hifigan.training.job import TrainResult, resolve_config, train
from hifigan.training.options import TrainData, TrainJob, TrainOptions
from hifigan.training.step import StepResult
from hifigan.training.trainer import Trainer

__all__ = ["StepResult", "TrainData", "TrainJob", "TrainOptions", "TrainResult", "Trainer",
           "resolve_config", "train"]
