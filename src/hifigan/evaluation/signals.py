"""What a metric accepts: a mono signal as a numpy array or a tensor, read as contiguous float32 [T]."""

from __future__ import annotations

import numpy as np
import torch

Signal = np.ndarray | torch.Tensor


def as_numpy(y: Signal) -> np.ndarray:
    """Any signal -> contiguous float32 numpy [T] (a tensor is detached and moved to the CPU)."""
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(y, dtype=np.float32).reshape(-1))
