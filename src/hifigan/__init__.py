"""HiFi-GAN (Kong, Kim & Bae, NeurIPS 2020): mel-spectrogram to waveform, with the official checkpoints."""

from hifigan.config import HifiganConfig, load_config
from hifigan.errors import HifiganError

__version__ = "0.1.0"
__all__ = ["HifiganConfig", "HifiganError", "__version__", "load_config"]
