"""A tensor that shares a numpy array's memory, a read-only one too: what the Vocoder's mels, the mel front-end's
audio and the metrics' signals are made of, without a copy and without torch's warning."""

from __future__ import annotations

import numpy as np
import torch


def shared_tensor(array: np.ndarray) -> torch.Tensor:
    """`torch.from_numpy(array)`, but for a read-only array (np.load(mmap_mode="r"), np.frombuffer(bytes)) without
    torch's warning that it is not writable (writing to it would be undefined; no caller writes to what it is given):
    DLPack, which carries the flag, shares it without a word. An array DLPack does not export (older numpy exports
    fewer) is copied, and a copy is writable."""
    if array.flags.writeable:
        return torch.from_numpy(array)
    try:
        return torch.from_dlpack(array)
    except (BufferError, RuntimeError, TypeError):
        return torch.from_numpy(array.copy())
