"""The CPU inference engine: the fused generator run stage by stage on cache-sized time tiles.

On the CPU, oneDNN already runs each convolution near the FMA peak; what the plain model adds is memory
traffic: every layer writes a full-length tensor (V3's last stage: 32 channels x 256 samples per frame), and
fresh large buffers cost a page fault per 4 KB on first touch. So, with the same weights as `FusedGenerator`:
- each upsampling stage (transposed conv, its MRF blocks and, for the last one, conv_post and tanh) runs on
  time tiles of its input, each widened by that stage's own receptive field (a few samples, not the whole
  network's), so a tile's intermediates stay in cache and no full-length intermediate is ever allocated;
- residual sums are oneDNN post-ops of the convolution producing them (r += conv(x), in place), and the
  leaky ReLUs after conv_pre and after ResBlock1's first conv, the stage output's activation and the final
  tanh are applied where the tile is still in cache (post-ops, or the copy out of the tile).
A tile's zero padding differs from the full sequence's only within the widening, which is cut away, so
outputs equal the plain generator's to float rounding (tests: 1e-4 against eager in float32, 1e-14 in float64).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.fused import FusedGenerator
from hifigan.models.generator import LRELU_SLOPE
from hifigan.streaming import conv_reach, stage_reach

# Elements per tile of a stage's output (2 MB of float32): big enough that per-call overheads (Python,
# oneDNN primitive setup) stay small, small enough for the cache. The fastest of 2^16..2^21 with two
# `tiled-split` workers on V3 (2 cores, AVX-512); one thread alone did as well with 2^17-2^18.
TILE_ELEMENTS = 1 << 19

_mkldnn = torch.ops.mkldnn


def onednn_available() -> bool:
    """Whether this torch build has oneDNN's fused convolution ops (x86 and most ARM CPU builds do)."""
    return torch.backends.mkldnn.is_available() and hasattr(_mkldnn, "_convolution_pointwise_")


class _Conv:
    """A folded height-1 Conv2d applied with optional fused epilogues; plain torch ops when oneDNN is off."""

    def __init__(self, conv: nn.Conv2d, onednn: bool) -> None:
        self.conv, self.weight, self.bias, self.onednn = conv, conv.weight, conv.bias, onednn
        self.args = (list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups)  # oneDNN's order
        self.kernel, self.dilation = conv.kernel_size[1], conv.dilation[1]

    def __call__(self, x: torch.Tensor, post: str = "none", slope: float = LRELU_SLOPE) -> torch.Tensor:
        """conv(x), then `post` in "none" | "leaky_relu" | "tanh"."""
        if self.onednn:
            scalars = [slope] if post == "leaky_relu" else []
            return _mkldnn._convolution_pointwise(x, self.weight, self.bias, *self.args, post, scalars, "")
        y = self.conv(x)
        if post == "leaky_relu":
            return F.leaky_relu_(y, slope)
        return torch.tanh_(y) if post == "tanh" else y

    def add(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """residual + conv(x), as a new tensor."""
        if self.onednn:
            return _mkldnn._convolution_pointwise.binary(
                x, residual, self.weight, self.bias, *self.args, "add", 1.0, None, [], None
            )
        return self(x).add_(residual)

    def add_(self, acc: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """acc += conv(x), in place."""
        if self.onednn:
            return _mkldnn._convolution_pointwise_.binary(
                acc, x, self.weight, self.bias, *self.args, "add", 1.0, None, [], None
            )
        return acc.add_(self(x))


def _leaky_relu_into(x: torch.Tensor, out: torch.Tensor | None, slope: float = LRELU_SLOPE) -> torch.Tensor:
    """lrelu(x) written into `out` (a fresh tensor when None), so a tile's scratch buffer is reused."""
    return torch.ops.aten.leaky_relu.out(x, slope, out=torch.empty_like(x) if out is None else out)


class TiledGenerator(nn.Module):
    """[B, num_mels, F] -> [B, 1, F * hop], equal to `Generator`; CPU only, fastest run single-threaded per core."""

    def __init__(self, fused: FusedGenerator, tile_elements: int = TILE_ELEMENTS, onednn: bool | None = None) -> None:
        super().__init__()
        if fused.layout != "2d":
            raise ValueError("TiledGenerator needs a FusedGenerator with layout='2d'")
        self.fused = fused  # owns the folded weights
        self.tile_elements = tile_elements
        float32 = fused.conv_pre.weight.dtype == torch.float32  # oneDNN has no float64 convolution
        self.onednn = onednn_available() and float32 if onednn is None else onednn
        self.num_kernels, self.resblock1 = fused.num_kernels, fused.resblock1
        self.conv_pre = _Conv(fused.conv_pre, self.onednn)
        self.conv_post = _Conv(fused.conv_post, self.onednn)
        # Per block, (pre, residual) units: ResBlock1 runs x += c2(lrelu(c1(lrelu(x)))), ResBlock2 x += c(lrelu(x)).
        self.units = [
            [(_Conv(convs[j], self.onednn), _Conv(convs[j + 1], self.onednn)) for j in range(0, len(convs), 2)]
            if self.resblock1
            else [(None, _Conv(c, self.onednn)) for c in convs]
            for convs in fused.blocks
        ]
        self.halos = [self._halo(i) for i in range(len(fused.ups))]

    def _halo(self, i: int) -> tuple[int, int]:
        """Input samples of stage i needed left and right of a tile's own, derived layer by layer (backwards)."""
        up = self.fused.ups[i]
        rate = up.stride[1]
        lo, hi = 0, rate - 1  # the stage outputs of input sample 0
        if i == len(self.fused.ups) - 1:
            lo, hi = conv_reach(lo, hi, self.conv_post.kernel, self.conv_post.dilation)
        blocks = [
            [(c.kernel, c.dilation) for unit in units for c in unit if c is not None]
            for units in self.units[i * self.num_kernels : (i + 1) * self.num_kernels]
        ]
        lo, hi = stage_reach(lo, hi, blocks, rate, up.kernel_size[1])
        return -lo, hi

    def _mrf(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Sum of stage i's residual blocks on x (the 1/num_kernels is folded into the next layer); consumes x."""
        n = self.num_kernels
        act = _leaky_relu_into(x, None)  # every block starts with lrelu(x): once
        scratch = None
        total = None
        for b, units in enumerate(self.units[i * n : (i + 1) * n]):
            y = x
            for j, (pre, res) in enumerate(units):
                inp = act if j == 0 else (scratch := _leaky_relu_into(y, scratch))
                if pre is not None:
                    inp = pre(inp, "leaky_relu")
                if j == 0 and b < n - 1:
                    y = res.add(inp, x)  # x is still needed by the later blocks
                else:
                    res.add_(y, inp)
            total = y if total is None else total.add_(y)
        return total

    def _stage(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Stage i on its activated input h [B, C, 1, L]: lrelu(MRF output), or for the last stage the audio."""
        up = self.fused.ups[i]
        rate, last = up.stride[1], i == len(self.fused.ups) - 1
        batch, length = h.shape[0], h.shape[-1]
        left, right = self.halos[i]
        channels = up.out_channels
        tile = max(1, self.tile_elements // (batch * channels * rate))
        out = torch.empty(batch, 1 if last else channels, 1, length * rate, dtype=h.dtype, device=h.device,
                          memory_format=torch.channels_last)
        for a in range(0, length, tile):
            b = min(length, a + tile)
            wa, wb = max(0, a - left), min(length, b + right)
            window = h[..., wa:wb].contiguous(memory_format=torch.channels_last)
            s = self._mrf(i, F.conv_transpose2d(window, up.weight, up.bias, up.stride, up.padding))
            if last:  # the official code uses lrelu's default slope (0.01) before conv_post
                s = self.conv_post(F.leaky_relu_(s, 0.01), "tanh")
            kept, dest = s[..., (a - wa) * rate : (b - wa) * rate], out[..., a * rate : b * rate]
            if last:
                dest.copy_(kept)
            else:  # stored activated: the next stage's transposed conv reads only lrelu(output)
                _leaky_relu_into(kept, dest)
        return out

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, frames] -> [B, 1, frames * hop] (same as Generator.forward)."""
        h = self.conv_pre(mel.unsqueeze(2).contiguous(memory_format=torch.channels_last), "leaky_relu")
        for i in range(len(self.fused.ups)):
            h = self._stage(i, h)
        return h.squeeze(2)
