"""The CPU inference engine: the fused generator run stage by stage on cache-sized time tiles.

On the CPU the convolutions themselves leave little to gain (docs/inference.md: where the time goes); what the plain
model adds is memory traffic: every layer writes a full-length tensor (V3's last stage: 32 channels x 256
samples per frame), and fresh large buffers cost a page fault per 4 KB on first touch. So, with the same
weights as `FusedGenerator`:
- each upsampling stage (transposed conv, its MRF blocks and, for the last one, conv_post and the output
  activation) runs on time tiles of its input, each widened by that stage's own reach (`stage_halo` of the
  generator's layer description: a few samples, not the whole network's), so a tile's intermediates stay in
  cache and no full-length intermediate is ever allocated;
- residual sums are oneDNN post-ops of the convolution producing them (r += conv(x), in place), and every
  activation between two convolutions (after conv_pre, inside a residual unit), the stage output's and the
  output activation are applied where the tile is still in cache (post-ops, or the copy out of the tile),
  each with the kind and slope the layer description gives.
A tile's zero padding differs from the full sequence's only within the widening, which is cut away, so
outputs equal the plain generator's to float rounding (tests: 1e-4 against eager in float32, 1e-14 in float64).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.inference import fused as fused_engine
from hifigan.inference.fused import FusedGenerator, activate_
from hifigan.models.layers import Activation, Block

# The layer kinds implemented here: the fused generator's, each activation a oneDNN post-op or a copy.
LAYERS = fused_engine.LAYERS

# Elements per tile of a stage's output (2 MB of float32): big enough that per-call overheads (Python,
# oneDNN primitive setup) stay small, small enough for the cache (the measured choice: docs/inference.md, benchmarks).
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

    def __call__(self, x: torch.Tensor, post: Activation | None = None) -> torch.Tensor:
        """post(conv(x)) for a leaky ReLU, tanh or no `post`."""
        if self.onednn:
            kind, scalars = ("none", []) if post is None else (post.kind, [] if post.slope is None else [post.slope])
            return _mkldnn._convolution_pointwise(x, self.weight, self.bias, *self.args, kind, scalars, "")
        return activate_(self.conv(x), post)

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


def _activate_into(x: torch.Tensor, out: torch.Tensor | None, act: Activation | None) -> torch.Tensor:
    """act(x) (a leaky ReLU or none) written into `out` (a fresh tensor when None), so a tile's scratch buffer
    is reused; never x itself, as the fused residual adds must not read what they write."""
    out = torch.empty_like(x) if out is None else out
    return out.copy_(x) if act is None else torch.ops.aten.leaky_relu.out(x, act.slope, out=out)


class TiledGenerator(nn.Module):
    """[B, num_mels, F] -> [B, 1, F * hop], equal to `Generator`; CPU only, meant to run single-threaded per core."""

    def __init__(self, fused: FusedGenerator, tile_elements: int = TILE_ELEMENTS, onednn: bool | None = None) -> None:
        super().__init__()
        if fused.layout != "2d":
            raise ValueError("TiledGenerator needs a FusedGenerator with layout='2d'")
        fused.layers.check(LAYERS, "tiled")
        self.fused, self.layers = fused, fused.layers  # the fused generator owns the folded weights
        self.tile_elements = tile_elements
        float32 = fused.conv_pre.weight.dtype == torch.float32  # oneDNN has no float64 convolution
        self.onednn = onednn_available() and float32 if onednn is None else onednn
        self.conv_pre = _Conv(fused.conv_pre, self.onednn)
        self.conv_post = _Conv(fused.conv_post, self.onednn)
        # Per stage, per block, per residual unit: its convs, each with the activation of its input.
        blocks = iter(fused.blocks)
        self.units = [
            [_units(next(blocks), block, self.onednn) for block in stage.blocks] for stage in self.layers.stages
        ]
        self.halos = [self.layers.stage_halo(i) for i in range(len(self.layers.stages))]

    def _mrf(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Sum of stage i's residual blocks on x (the 1/num_kernels is folded into the next layer); consumes x."""
        blocks = self.units[i]
        shared: dict[Activation | None, torch.Tensor] = {}  # every block starts with act(x): once per act
        scratch = None
        total = None
        for b, units in enumerate(blocks):
            first = units[0][0][1]
            if first not in shared:
                shared[first] = _activate_into(x, None, first)
            y = x
            for j, unit in enumerate(units):
                inp = shared[first] if j == 0 else (scratch := _activate_into(y, scratch, unit[0][1]))
                for (conv, _), (_, post) in itertools.pairwise(unit):  # the next conv's activation: a post-op
                    inp = conv(inp, post)
                res = unit[-1][0]
                if j == 0 and b < len(blocks) - 1:
                    y = res.add(inp, x)  # x is still needed by the later blocks
                else:
                    res.add_(y, inp)
            total = y if total is None else total.add_(y)
        return total

    def _stage(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Stage i on its activated input h [B, C, 1, L]: the next stage's activation of the MRF output, or for
        the last stage the audio."""
        up = self.fused.ups[i]
        rate, last = up.stride[1], i == len(self.fused.ups) - 1
        batch, length = h.shape[0], h.shape[-1]
        left, right = self.halos[i]
        channels = up.out_channels
        tile = max(1, self.tile_elements // (batch * channels * rate))
        out = torch.empty(batch, 1 if last else channels, 1, length * rate, dtype=h.dtype, device=h.device,
                          memory_format=torch.channels_last)
        layers = self.layers
        for a in range(0, length, tile):
            b = min(length, a + tile)
            wa, wb = max(0, a - left), min(length, b + right)
            window = h[..., wa:wb].contiguous(memory_format=torch.channels_last)
            s = self._mrf(i, F.conv_transpose2d(window, up.weight, up.bias, up.stride, up.padding, up.output_padding))
            if last:
                s = self.conv_post(activate_(s, layers.conv_post.act), layers.output)
            kept, dest = s[..., (a - wa) * rate : (b - wa) * rate], out[..., a * rate : b * rate]
            if last:
                dest.copy_(kept)
            else:  # stored activated: the next stage's transposed conv reads only act(output)
                _activate_into(kept, dest, layers.stages[i + 1].up.act)
        return out

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, frames] -> [B, 1, frames * hop] (same as Generator.forward), in the weights' dtype also
        under a caller's autocast (whose casts the oneDNN post-ops cannot take)."""
        with torch.autocast(mel.device.type, enabled=False):
            return self._forward(mel)

    def _forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        if self.layers.conv_pre.act is not None:
            x = _activate_into(x, None, self.layers.conv_pre.act)
        h = self.conv_pre(x, self.layers.stages[0].up.act)
        for i in range(len(self.fused.ups)):
            h = self._stage(i, h)
        return h.squeeze(2)


def _units(convs: nn.ModuleList, block: Block, onednn: bool) -> list[list[tuple[_Conv, Activation | None]]]:
    """A block's residual units as lists of (conv, activation of its input), from the fused convs in order."""
    it = iter(convs)
    return [[(_Conv(next(it), onednn), c.act) for c in unit] for unit in block.units]
