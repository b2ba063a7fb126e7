"""The shapes a mel may come in, below every module that reads one (audio files, the Vocoder, its streams, the
server): how errors and pages name them, and the one rule for a batch of one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch


def mel_shapes(bins: int, dims: tuple[int, ...], transposed: bool = False, batch: str = "B", frames: str = "T") -> str:
    """The shapes a mel may have, as every error and page says them: '[80, T] or [B, 80, T]' (`batch` "1": a batch
    of one, a stream chunk's and a served mel's)."""
    one = f"[{frames}, {bins}]" if transposed else f"[{bins}, {frames}]"
    return " or ".join(one if d == 2 else f"[{batch}, " + one[1:] for d in dims)


def unbatched(mel: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """A batch of one, [1, bins, T] (an acoustic model's usual output), as its [bins, T] mel (a view); any other
    shape as it is. The one rule by which a stream chunk and a served mel may come with a batch axis."""
    return mel[0] if mel.ndim == 3 and mel.shape[0] == 1 else mel
