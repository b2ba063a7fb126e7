"""An inference-only rewrite of the generator: same function, fewer memory passes.

Exact algebraic rewrites of a `Generator` (weight norm folded as it copies), chosen by measuring on 2 CPU cores:
- the MRF mean's 1/num_kernels is folded into the next layer's weights (leaky ReLU is positively
  homogeneous: conv(lrelu(s / n)) == (conv / n)(lrelu(s)) with the bias unchanged), removing a division pass;
- activations and residual sums run in place on buffers the convolutions just produced, so a big
  stage allocates (and page-faults) far less memory, and the leaky ReLU of a stage's input, which every
  residual block of the stage starts with, is computed once instead of once per block;
- with `layout="2d"` every convolution runs as a channels-last Conv2d of height 1, the memory format
  oneDNN convolves natively (no reorder of activations around each call).
Outputs equal the plain generator's to float rounding (tests: 1e-4 in float32, 1e-14 in float64).
This is the form that is exported (ONNX, TorchScript) and run on CUDA; on the CPU `hifigan.tiled` runs the
same folded weights on cache-sized time tiles.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.models.generator import LRELU_SLOPE, Generator, ResBlock1


def _plain_copy(conv: nn.Conv1d | nn.ConvTranspose1d, two_d: bool) -> nn.Module:
    """A plain (unparametrized) copy of a conv; as a height-1 2-D conv when `two_d`."""
    k, s, p, d = conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0]
    if isinstance(conv, nn.ConvTranspose1d):
        new: nn.Module = (nn.ConvTranspose2d(conv.in_channels, conv.out_channels, (1, k), (1, s), padding=(0, p))
                          if two_d else nn.ConvTranspose1d(conv.in_channels, conv.out_channels, k, s, padding=p))
    else:
        new = (nn.Conv2d(conv.in_channels, conv.out_channels, (1, k), 1, padding=(0, p), dilation=(1, d))
               if two_d else nn.Conv1d(conv.in_channels, conv.out_channels, k, 1, padding=p, dilation=d))
    with torch.no_grad():  # reading `conv.weight` applies any weight norm, so the copy is folded
        weight = conv.weight.detach()
        new = new.to(weight.device, weight.dtype)  # a float64 generator gives a float64 copy
        new.weight.copy_(weight.unsqueeze(2) if two_d else weight)
        new.bias.copy_(conv.bias.detach())
    return new


class FusedGenerator(nn.Module):
    """`Generator` for inference: [B, num_mels, F] -> [B, 1, F * hop], equal outputs, less memory traffic."""

    def __init__(self, generator: Generator, layout: str = "2d") -> None:
        super().__init__()
        if layout not in ("1d", "2d"):
            raise ValueError(f"layout must be '1d' or '2d', got {layout!r}")
        self.layout = layout
        self.num_kernels = generator.num_kernels
        self.resblock1 = isinstance(generator.resblocks[0], ResBlock1)

        def conv(c: nn.Module) -> nn.Module:
            return _plain_copy(c, layout == "2d")

        g = generator
        self.conv_pre = conv(g.conv_pre)
        self.ups = nn.ModuleList(conv(u) for u in g.ups)
        # Per block: the convs in application order (ResBlock1 alternates convs1[j], convs2[j]).
        blocks = []
        for block in g.resblocks:
            if self.resblock1:
                seq = [c for pair in zip(block.convs1, block.convs2) for c in pair]
            else:
                seq = list(block.convs)
            blocks.append(nn.ModuleList(conv(c) for c in seq))
        self.blocks = nn.ModuleList(blocks)
        self.conv_post = conv(g.conv_post)
        with torch.no_grad():  # fold each stage's MRF mean into the layer after it
            for layer in [*list(self.ups)[1:], self.conv_post]:
                layer.weight.mul_(1.0 / g.num_kernels)
        if layout == "2d":  # channels-last weights too, or every call re-lays them out
            self.to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.eval()

    def _block(self, convs: nn.ModuleList, x: torch.Tensor, x_act: torch.Tensor) -> torch.Tensor:
        """One residual block on x, given x_act = lrelu(x) (shared by the stage's blocks); never writes x."""
        step = 2 if self.resblock1 else 1
        for j in range(0, len(convs), step):
            xt = convs[j](x_act if j == 0 else F.leaky_relu(x, LRELU_SLOPE))
            if self.resblock1:
                xt = convs[j + 1](F.leaky_relu_(xt, LRELU_SLOPE))
            x = xt.add_(x)
        return x

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, frames] -> [B, 1, frames * hop] (same as Generator.forward)."""
        x = mel.unsqueeze(2).contiguous(memory_format=torch.channels_last) if self.layout == "2d" else mel
        x = self.conv_pre(x)
        n = self.num_kernels
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu_(x, LRELU_SLOPE))  # x is ours (conv_pre's output or the last MRF sum)
            x_act = F.leaky_relu(x, LRELU_SLOPE)  # every block of the stage starts with lrelu(x): once
            out = self._block(self.blocks[i * n], x, x_act)
            for b in range(1, n):
                out = out.add_(self._block(self.blocks[i * n + b], x, x_act))
            x = out  # the 1/num_kernels is folded into the next layer
        x = torch.tanh_(self.conv_post(F.leaky_relu_(x)))
        return x.squeeze(2) if self.layout == "2d" else x
