"""Convolutions as one matrix product each, so that every output sample's float arithmetic is the same whatever
else is computed with it: the `invariant` backend.

oneDNN picks its convolution algorithm (blocking, threading, tail handling) by batch size, length and thread
count, so in float32 a mel vocoded in a batch, in streaming windows or in chunks rounds differently (by an ulp)
from the same mel alone (docs/serving.md: batch invariance). Here a convolution is `W @ columns`: one column per
output sample and batch row (im2col), and a transposed convolution is the same product over its polyphase
form (output sample o = q * stride + r takes phase r's taps from inputs q, q - 1, ...). A GEMM computes each
column of its output as a dot product over the same weights, in the same order, for every number and placement of
columns once there are at least `MIN_COLUMNS` (MKL takes other paths for a few columns; tests check both
properties on the machine they run on). Every GEMM runs on one thread with aligned operands (the engine's workers
are single-threaded), so that no choice of MKL's (a split of the sum over threads, a peel for alignment) depends on
the shape or the place of a product. The activations are kept channel-major, [C, B, T], so the batch and time
are the GEMM's columns with no reordering between layers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Fewer output columns than this are computed padded to it with zero columns (measured: MKL's sgemm on AVX-512
# gives column-invariant results from 12 columns up; the margin covers other kernels).
MIN_COLUMNS = 64
# Weight rows are padded with zero rows to a multiple of this: MKL computes a product of very few rows (conv_post's
# one) by other paths, whose result for a column depends on where it sits.
ROW_MULTIPLE = 16
# Elements of im2col columns built per GEMM (4 MB of float32): cut in time so that they stay in cache.
TILE_ELEMENTS = 1 << 20


def _tiles(length: int, size: int) -> list[tuple[int, int]]:
    """[a, b) pieces of range(length), each `size` long but the last, which takes the rest when that is short."""
    cuts = list(range(0, length, size))
    if len(cuts) > 1 and length - cuts[-1] < MIN_COLUMNS:
        cuts.pop()
    return list(zip(cuts, [*cuts[1:], length]))


def padded_rows(matrix: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`matrix` [M, K] and `bias` [M] with zero rows added up to a multiple of ROW_MULTIPLE; bias as a column."""
    extra = -matrix.shape[0] % ROW_MULTIPLE
    return F.pad(matrix, (0, 0, 0, extra)).contiguous(), F.pad(bias, (0, extra)).unsqueeze(1)


def matmul_windows(matrix: torch.Tensor, bias: torch.Tensor, windows: torch.Tensor, rows: int) -> torch.Tensor:
    """bias + matrix @ im2col(windows), its first `rows` rows: windows [C, B, Q, k] (a view) -> [rows, B, Q], with
    `matrix` [M, C * k] (from `padded_rows`) whose columns are (c, j). Each output column is computed the same way
    whatever B, Q and the tiling are."""
    channels, batch, steps, taps = windows.shape
    depth = channels * taps
    out = windows.new_empty(matrix.shape[0], batch, steps)
    size = max(MIN_COLUMNS, TILE_ELEMENTS // depth)
    scratch = windows.new_empty(depth * min(size + MIN_COLUMNS, max(steps, MIN_COLUMNS)))  # one buffer, every tile
    for b in range(batch):
        for a, e in _tiles(steps, size):
            n = e - a
            columns = scratch[: depth * n].view(channels, taps, n).copy_(windows[:, b, a:e].permute(0, 2, 1))
            columns = columns.view(depth, n)
            if n < MIN_COLUMNS:  # padded with zero columns to a size the GEMM computes column-invariantly
                columns = F.pad(columns, (0, MIN_COLUMNS - n))
            # Into a fresh (aligned) matrix, then copied: MKL may take other paths for an unaligned output.
            out[:, b, a:e] = torch.addmm(bias, matrix, columns)[:, :n]
    return out[:rows]


class GemmConv1d(nn.Module):
    """A Conv1d (zero padding, one group) as im2col and one GEMM: [C_in, B, T] -> [C_out, B, T_out]."""

    def __init__(self, conv: nn.Conv1d) -> None:
        super().__init__()
        self.kernel, self.stride = conv.kernel_size[0], conv.stride[0]
        self.padding, self.dilation = conv.padding[0], conv.dilation[0]
        weight = conv.weight.detach()
        self.rows = weight.shape[0]
        # Column (c, j) holds input channel c at tap j: the weight's own [C_out, C_in, k] order, flattened.
        matrix, bias = padded_rows(weight.reshape(self.rows, -1), conv.bias.detach())
        self.register_buffer("matrix", matrix)
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        span = (self.kernel - 1) * self.dilation + 1
        windows = F.pad(x, (self.padding, self.padding)).unfold(2, span, self.stride)[..., :: self.dilation]
        return matmul_windows(self.matrix, self.bias, windows, self.rows)  # [C_in, B, T_out, k] -> [C_out, B, T_out]


class GemmConvTranspose1d(nn.Module):
    """A ConvTranspose1d (zero padding, one group) in polyphase form, one GEMM: [C_in, B, L] -> [C_out, B, L_out].

    With o' = o + padding, output o' = q * stride + r sums weight tap j over inputs i with i * stride + j * dilation
    = o', i.e. for phase r the taps with j * dilation = m * stride + r read input q - m. So one GEMM computes all
    `stride` phases (rows (r, c_out)) from windows of `shifts` consecutive inputs (columns (c_in, m))."""

    def __init__(self, conv: nn.ConvTranspose1d) -> None:
        super().__init__()
        k, s, d = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        self.stride, self.padding, self.output_padding = s, conv.padding[0], conv.output_padding[0]
        self.reach = (k - 1) * d  # the last tap's offset
        self.shifts = self.reach // s + 1
        weight = conv.weight.detach()  # [C_in, C_out, k]
        c_in, c_out = weight.shape[0], weight.shape[1]
        # poly[r, c_out, c_in, w]: window position w = shifts - 1 - m (windows read inputs in increasing order).
        poly = weight.new_zeros(s, c_out, c_in, self.shifts)
        for j in range(k):
            m, r = divmod(j * d, s)
            poly[r, :, :, self.shifts - 1 - m] = weight[:, :, j].T
        self.rows = s * c_out
        matrix, bias = padded_rows(poly.reshape(self.rows, c_in * self.shifts), conv.bias.detach().repeat(s))
        self.register_buffer("matrix", matrix)
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[1:]
        s, p = self.stride, self.padding
        out_length = (length - 1) * s - 2 * p + self.reach + self.output_padding + 1
        first, last = p // s, (p + out_length - 1) // s  # the q whose phases cover outputs [0, out_length)
        # Padded so that window q reads inputs q - shifts + 1 .. q (zeros outside [0, length)).
        padded = F.pad(x, (self.shifts - 1, max(0, last - length + 1)))
        windows = padded.unfold(2, self.shifts, 1)[:, :, first : last + 1]  # [C_in, B, Q, shifts]
        q = windows.shape[2]
        phases = matmul_windows(self.matrix, self.bias, windows, self.rows).view(s, -1, batch, q)  # [s, C_out, B, Q]
        out = phases.permute(1, 2, 3, 0).reshape(-1, batch, q * s)  # sample q * s + r, from q = first
        start = p - first * s
        return out[:, :, start : start + out_length]


def gemm_conv(conv: nn.Module) -> nn.Module:
    """The GEMM form of a plain Conv1d or ConvTranspose1d (same weights, same function, channel-major)."""
    return GemmConvTranspose1d(conv) if isinstance(conv, nn.ConvTranspose1d) else GemmConv1d(conv)
