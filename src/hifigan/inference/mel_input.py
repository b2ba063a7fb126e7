"""The form of a mel a `Vocoder` is given, before its values are checked (hifigan.mel_file.checked_mel_values): a tensor
made from it without a copy where torch can, and its shape as the caller gives it."""

from __future__ import annotations

import numpy as np
import torch

from hifigan.errors import MelError
from hifigan.mel_file import checked_mel_values
from hifigan.mel_shape import mel_shapes, unbatched


def mel_tensor(mel: torch.Tensor | np.ndarray, source: str | None) -> torch.Tensor:
    """`mel` as a tensor, sharing its memory where torch can: a flipped numpy view (negative strides, which torch
    refuses) is copied; a numpy array that is not numeric is the dtype MelError, not torch's TypeError."""
    if isinstance(mel, np.ndarray):
        if not (np.issubdtype(mel.dtype, np.number) or mel.dtype == np.bool_):
            checked_mel_values(mel, source)  # raises: not floating point
        if any(stride < 0 for stride in mel.strides):
            mel = np.ascontiguousarray(mel)
    return torch.as_tensor(mel)


def check_mel_shape(mel: torch.Tensor | np.ndarray, dims: tuple[int, ...], bins: int, transposed: bool,
                    source: str | None, min_frames: int = 1, batch_of_one: bool = False) -> None:
    """`mel`'s shape as the caller gives it: [bins, T] ([T, bins] when `transposed`), with a batch axis in front
    (of size 1 if `batch_of_one`) where `dims` allows 3, T >= min_frames; else a MelError naming `source`."""
    axes = (-1, -2) if transposed else (-2, -1)  # of the mel bins and the frames
    if (mel.ndim in dims and mel.shape[axes[0]] == bins and mel.shape[axes[1]] >= min_frames
            and (mel.ndim == 2 or not batch_of_one or mel.shape[0] == 1)):
        return
    shapes = mel_shapes(bins, dims, transposed, "1" if batch_of_one else "B")
    least = f" with T >= {min_frames}" if min_frames else ""
    raise MelError(source, f"expected a mel of shape {shapes}{least}, got {tuple(mel.shape)}")


def stream_chunk(chunk: torch.Tensor, bins: int, transposed: bool, source: str | None) -> torch.Tensor:
    """A stream chunk, [bins, n] or [1, bins, n] (n >= 0; [n, bins] when `transposed`), as [bins, n]; another shape
    is a whole mel's MelError naming `source`."""
    check_mel_shape(chunk, (2, 3), bins, transposed, source, min_frames=0, batch_of_one=True)
    return unbatched(chunk)
