"""HiFi-GAN (Kong, Kim & Bae, NeurIPS 2020): mel-spectrogram to waveform, with the official checkpoints.

The public names of the library, importable from here (`from hifigan import Vocoder, train, TrainJob`); each lives in
its own module and loads when first used, so `import hifigan` imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from hifigan.config import HifiganConfig, load_config
from hifigan.errors import HifiganError

__version__ = "0.1.0"

_LAZY = {
    # inference, checkpoints, the front-end
    "Vocoder": "hifigan.inference.vocoder",
    "load_generator": "hifigan.checkpoints.contents",
    "load_pretrained": "hifigan.pretrained",
    "export_generator": "hifigan.inference.export",
    "export_official": "hifigan.checkpoints.export_official",
    "load_audio": "hifigan.audio",
    "register_generator": "hifigan.models.generators",
    "mel_spectrogram": "hifigan.mel",
    "MelSpectrogram": "hifigan.mel",
    # training
    "train": "hifigan.training.job",
    "TrainResult": "hifigan.training.job",
    "TrainJob": "hifigan.training.options",
    "Corpus": "hifigan.data.corpus",
    "TrainOptions": "hifigan.training.options",
    "Trainer": "hifigan.training.trainer",
    # evaluation
    "evaluate_pairs": "hifigan.evaluation.evaluate",
    "compute_metrics": "hifigan.evaluation.metrics",
    "aggregate": "hifigan.evaluation.results",
}
__all__ = ["HifiganConfig", "HifiganError", "__version__", "load_config", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hifigan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
