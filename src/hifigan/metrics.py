"""Objective quality metrics for vocoded audio against the recording."""

from __future__ import annotations

import numpy as np
import torch

from hifigan.audio import mel_frontend
from hifigan.config import HifiganConfig


def _as_batch(y: np.ndarray | torch.Tensor) -> torch.Tensor:
    y = torch.as_tensor(y, dtype=torch.float32)
    return y.unsqueeze(0) if y.dim() == 1 else y


def mel_l1(reference: np.ndarray | torch.Tensor, generated: np.ndarray | torch.Tensor, config: HifiganConfig) -> float:
    """The paper's validation error: mean |log-mel(x) - log-mel(G(s))| with the loss mel (fmax_for_loss).

    Both signals are trimmed to the shorter length (they differ by less than one hop in copy synthesis).
    """
    ref, gen = _as_batch(reference), _as_batch(generated)
    n = min(ref.shape[-1], gen.shape[-1])
    frontend = mel_frontend(**config.mel_kwargs(for_loss=True))
    return torch.nn.functional.l1_loss(frontend(gen[..., :n]), frontend(ref[..., :n])).item()
