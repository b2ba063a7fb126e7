"""Reflect padding along time with a deterministic backward pass, for the mel front-end and the MPD; and the
shortest signal a window of n_fft frames once reflect-padded."""

from __future__ import annotations

import torch


def padded_min_samples(n_fft: int, pad: int) -> int:
    """The fewest samples that make one frame of n_fft once reflect-padded by `pad` per side: more than `pad`
    (reflection mirrors samples of the signal itself) and T + 2 pad >= n_fft."""
    return max(pad + 1, n_fft - 2 * pad)


def reflect_pad(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """[..., T] -> [..., left + T + right], mirrored about the edge samples (F.pad 'reflect': needs left, right < T).

    Built from slices, flips and a concatenation, so its gradient is a deterministic sum: CUDA's reflection_pad1d
    backward scatters with atomics and is refused under torch.use_deterministic_algorithms (--deterministic).
    The values are F.pad's exactly.
    """
    length = x.shape[-1]
    if left >= length or right >= length or left < 0 or right < 0:
        raise ValueError(f"reflect padding ({left}, {right}) needs each side in [0, {length}) for {length} samples")
    parts = [x]
    if left:
        parts.insert(0, x[..., 1 : left + 1].flip(-1))
    if right:
        parts.append(x[..., length - right - 1 : length - 1].flip(-1))
    return torch.cat(parts, dim=-1) if len(parts) > 1 else x
