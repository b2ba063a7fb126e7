"""torch's default dtype held at float32 where the project makes its tensors: models, mels and the training step are
float32 (checkpoints hold float32), and a caller's torch.set_default_dtype(torch.float64) would otherwise make some
of them float64 (weights, buffers, optimizer state), which then do not meet the float32 ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def float32_default() -> Iterator[None]:
    """torch's default dtype float32 for the block (or a decorated function's call), then back to what it was."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(before)
