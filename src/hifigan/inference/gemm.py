"""Convolutions as matrix products whose rounding of a sample does not depend on what else is computed with it: the
`invariant` backend.

oneDNN picks its convolution algorithm (blocking, threading, tail handling) by batch size, length and thread count,
and for some shapes its result for a sample even depends on where in the input the sample sits, so in float32 a
mel vocoded in a batch, in streaming windows or in chunks rounds differently (by an ulp) from the same mel alone
(docs/inference.md: bit-for-bit batching). Here a convolution is `W @ columns`: one column per output sample
(im2col), and a transposed convolution is the same product over its polyphase form (output sample
o = q * stride + r takes phase r's taps from inputs q, q - 1, ...). Every product a layer computes has the same
shape: columns are cut into tiles of the layer's fixed width (a multiple of 192, so that every micro-kernel width a
GEMM may use divides it: no edge kernels), and a short last tile is padded with zero columns. With the same
shape, the same thread count (one: the engine's workers are single-threaded) and aligned buffers, MKL runs the same
code for every product, and within a product it computes every column as the same dot product in the same order.
The activations are kept channel-major, [C, B, T].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Tile widths are multiples of this (divisible by 6, 8, 12, 16, 24, 32, 48 and 64: the micro-kernel widths of
# AVX2 and AVX-512 GEMMs), between one and eight of them.
COLUMN_QUANTUM = 192
# Elements of im2col columns per product (4 MB of float32) where that gives a tile width in range: in cache.
TILE_ELEMENTS = 1 << 20


def tile_width(depth: int) -> int:
    """The fixed number of columns of every product of a layer whose columns have `depth` rows."""
    return COLUMN_QUANTUM * min(8, max(1, TILE_ELEMENTS // depth // COLUMN_QUANTUM))


def matmul_windows(matrix: torch.Tensor, bias: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """bias + matrix @ im2col(windows): windows [C, B, Q, k] (a view) -> [M, B, Q], with `matrix` [M, C * k] whose
    columns are (c, j) and `bias` [M, 1]. Every product is [M, C * k] x [C * k, tile_width], so each output column
    is computed the same way whatever B and Q are and wherever it sits."""
    channels, batch, steps, taps = windows.shape
    width = tile_width(channels * taps)
    out = windows.new_empty(matrix.shape[0], batch, steps)
    columns = windows.new_empty(channels, taps, width)  # one (aligned) buffer for every tile
    for b in range(batch):
        for a in range(0, steps, width):
            n = min(width, steps - a)
            columns[:, :, :n] = windows[:, b, a : a + n].permute(0, 2, 1)
            if n < width:
                columns[:, :, n:] = 0
            out[:, b, a : a + n] = torch.addmm(bias, matrix, columns.view(-1, width))[:, :n]
    return out


class GemmConv1d(nn.Module):
    """A Conv1d (zero padding, one group) as im2col and one GEMM: [C_in, B, T] -> [C_out, B, T_out]."""

    def __init__(self, conv: nn.Conv1d) -> None:
        super().__init__()
        self.kernel, self.stride = conv.kernel_size[0], conv.stride[0]
        self.padding, self.dilation = conv.padding[0], conv.dilation[0]
        weight = conv.weight.detach()
        # Column (c, j) holds input channel c at tap j: the weight's own [C_out, C_in, k] order, flattened.
        self.register_buffer("matrix", weight.reshape(weight.shape[0], -1).clone())
        self.register_buffer("bias", conv.bias.detach().clone().unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        span = (self.kernel - 1) * self.dilation + 1
        windows = F.pad(x, (self.padding, self.padding)).unfold(2, span, self.stride)[..., :: self.dilation]
        return matmul_windows(self.matrix, self.bias, windows)  # [C_in, B, T_out, k] -> [C_out, B, T_out]


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
        self.register_buffer("matrix", poly.reshape(s * c_out, c_in * self.shifts))
        self.register_buffer("bias", conv.bias.detach().repeat(s).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[1:]
        s, p = self.stride, self.padding
        out_length = (length - 1) * s - 2 * p + self.reach + self.output_padding + 1
        first, last = p // s, (p + out_length - 1) // s  # the q whose phases cover outputs [0, out_length)
        # Padded so that window q reads inputs q - shifts + 1 .. q (zeros outside [0, length)).
        padded = F.pad(x, (self.shifts - 1, max(0, last - length + 1)))
        windows = padded.unfold(2, self.shifts, 1)[:, :, first : last + 1]  # [C_in, B, Q, shifts]
        q = windows.shape[2]
        phases = matmul_windows(self.matrix, self.bias, windows).view(s, -1, batch, q)  # [s, C_out, B, Q]
        out = phases.permute(1, 2, 3, 0).reshape(-1, batch, q * s)  # sample q * s + r, from q = first
        start = p - first * s
        return out[:, :, start : start + out_length]


def gemm_conv(conv: nn.Module) -> nn.Module:
    """The GEMM form of a plain Conv1d or ConvTranspose1d (same weights, same function, channel-major)."""
    return GemmConvTranspose1d(conv) if isinstance(conv, nn.ConvTranspose1d) else GemmConv1d(conv)
