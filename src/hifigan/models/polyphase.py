"""Strided 1-D convolution computed as a stride-1 convolution over the input's polyphase components.

A stride-s conv with a k-tap kernel equals a stride-1 conv with ceil(k/s) taps over s*C channels, where channel
c*s + r holds samples r, r+s, r+2s, ... of channel c and the kernel's taps are regrouped the same way (zero taps
pad it to a multiple of s). Same products, same sums up to float rounding; oneDNN runs the stride-1 form of
MSD's grouped 41-tap convs 2-3x faster on the CPU (benchmarks/train_step.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def polyphase_conv1d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int,
                     groups: int) -> torch.Tensor:
    """F.conv1d(x, weight, bias, stride, padding, groups=groups) with zero padding and dilation 1.

    x: [B, C, L], weight: [O, C/groups, k] -> [B, O, (L + 2 padding - k) // stride + 1].
    """
    if stride == 1:
        return F.conv1d(x, weight, bias, 1, padding, 1, groups)
    b, c, length = x.shape
    out_ch, per_group, k = weight.shape
    taps = -(-k // stride)  # kernel taps per phase
    n_out = (length + 2 * padding - k) // stride + 1
    total = stride * (n_out - 1 + taps)  # padded length read by the last output, a multiple of the stride
    # The right pad may be negative (F.pad then crops): samples past the last window are never read.
    xp = F.pad(x, (padding, total - length - padding))
    phases = xp.view(b, c, total // stride, stride).transpose(2, 3).reshape(b, c * stride, total // stride)
    w = F.pad(weight, (0, taps * stride - k)).view(out_ch, per_group, taps, stride)
    w = w.transpose(2, 3).reshape(out_ch, per_group * stride, taps)
    return F.conv1d(phases, w, bias, 1, 0, 1, groups)


class PolyphaseConv1d(nn.Conv1d):
    """nn.Conv1d (same parameters, same state-dict keys) whose strided forward runs `polyphase_conv1d`."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.padding_mode != "zeros" or self.dilation != (1,) or isinstance(self.padding, str):
            return super()._conv_forward(input, weight, bias)
        return polyphase_conv1d(input, weight, bias, self.stride[0], self.padding[0], self.groups)
