"""Vocoding: log-mel in, waveform out, with the generator's weight norm folded away."""

from __future__ import annotations

import os

import numpy as np
import torch

from hifigan.checkpoint import load_generator
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.models import Generator


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch.device, with a clear error when CUDA is asked for and absent."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise HifiganError(None, "--device cuda: CUDA is not available on this machine")
    return device


class Vocoder:
    """A ready-to-run generator: eval mode, weight norm folded, no autograd."""

    def __init__(self, generator: Generator, config: HifiganConfig, device: str | torch.device = "cpu") -> None:
        self.config = config
        self.device = resolve_device(device)
        self.generator = generator.to(self.device).eval().remove_weight_norm()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        config: str | os.PathLike | HifiganConfig | None = None,
        device: str | torch.device = "cpu",
    ) -> Vocoder:
        """Our checkpoint (config inside) or an official `g_*` file (config required)."""
        generator, cfg = load_generator(path, config)
        return cls(generator, cfg, device)

    @property
    def hop_size(self) -> int:
        return self.config.upsample_factor

    def __call__(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """[num_mels, T] -> [T * hop] or [B, num_mels, T] -> [B, T * hop], float32 on the CPU."""
        mel = torch.as_tensor(mel, dtype=torch.float32)
        single = mel.dim() == 2
        if single:
            mel = mel.unsqueeze(0)
        if mel.dim() != 3 or mel.shape[1] != self.config.num_mels:
            raise ValueError(f"expected a mel of shape [{self.config.num_mels}, T] or [B, {self.config.num_mels}, T], "
                             f"got {tuple(mel.shape)}")
        with torch.inference_mode():
            audio = self.generator(mel.to(self.device)).squeeze(1).float().cpu()
        return audio[0] if single else audio
