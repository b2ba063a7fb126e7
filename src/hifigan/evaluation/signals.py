"""What a metric accepts: a mono signal as a numpy array or a tensor, read as contiguous float32 [T]."""

from __future__ import annotations

import numpy as np
import torch

from hifigan.arrays.pcm import INT16_HINT
from hifigan.errors import AudioError

Signal = np.ndarray | torch.Tensor


def as_numpy(y: Signal) -> np.ndarray:
    """Any signal -> contiguous float32 numpy [T] (a tensor is detached and moved to the CPU)."""
    if isinstance(y, torch.Tensor):
        y = _numpy(y)
    return np.ascontiguousarray(np.asarray(y, dtype=np.float32).reshape(-1))


def mono_signal(y: Signal, what: str, source: str | None = None) -> np.ndarray:
    """`as_numpy` of one mono signal ([T], or [1, T] / [T, 1]) with finite samples, as a file's are checked
    (hifigan.audio); else an AudioError naming `source` and `what` ("the recording", "the generated audio"): a
    stereo [T, 2] array or a [B, T] batch is refused, not read as one signal of its samples in a row, and so are
    samples that are not floats (int16 PCM values: the reader of a file scales them by 1/32768)."""
    array = _numpy(y) if isinstance(y, torch.Tensor) else np.asarray(y)
    if array.dtype.kind != "f":  # int16 PCM values, scored as floats, were a signal 90 dB above the other
        hint = f" ({INT16_HINT})" if array.dtype == np.int16 else ""
        raise AudioError(source, f"{what} has dtype {array.dtype}: expected float samples in [-1, 1]{hint}")
    if sum(n > 1 for n in array.shape) > 1:
        raise AudioError(source, f"{what} has shape {array.shape}: expected one mono signal [T] (or [1, T]): "
                                 "give each channel, or each item of a batch, as a pair of its own")
    if not np.isfinite(array).all():
        raise AudioError(source, f"{what} contains non-finite samples (NaN or inf)")
    with np.errstate(over="ignore"):
        signal = as_numpy(array)
    if not np.isfinite(signal).all():  # a float64 sample past float32's ~3.4e38, which the metrics compute in
        raise AudioError(source, f"{what} has samples beyond the float32 range")
    return signal


def _numpy(y: torch.Tensor) -> np.ndarray:
    """A tensor's values as numpy, detached and on the CPU; a float dtype numpy lacks (bfloat16) as float32."""
    y = y.detach().cpu()
    return (y.float() if y.is_floating_point() and y.dtype not in (torch.float16, torch.float32, torch.float64)
            else y).numpy()
