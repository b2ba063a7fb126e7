"""Reflect padding along time with a deterministic backward pass, for the mel front-end and the MPD."""

from __future__ import annotations

import torch


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
