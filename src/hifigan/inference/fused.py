"""An inference-only rewrite of the generator: same function, fewer memory passes.

Exact algebraic rewrites of a `Generator` (weight norm folded as it copies), built from its layer description
(`Generator.layers()`), so kernels, dilations, paddings, activation slopes and the residual structure are the
model's own:
- the MRF mean's 1/num_kernels is folded into the next layer's weights (leaky ReLU, the activation in front of
  that layer, is positively homogeneous: conv(lrelu(s / n)) == (conv / n)(lrelu(s)) with the bias unchanged),
  removing a division pass;
- activations and residual sums run in place on buffers the convolutions just produced, so a big stage
  allocates (and page-faults) far less memory, and the activation of a stage's input, which every residual
  block of the stage starts with, is computed once per distinct activation instead of once per block;
- with `layout="2d"` every convolution runs as a channels-last Conv2d of height 1, the memory format
  oneDNN convolves natively (no reorder of activations around each call).
- with `layout="gemm"` every convolution is one matrix product over channel-major [C, B, T] activations
  (`hifigan.inference.gemm`), whose float32 rounding of a sample does not depend on the batch, the length or the
  window it is computed in (the `invariant` backend).
Outputs equal the plain generator's to float rounding (tests: 1e-4 in float32, 1e-14 in float64).
This is the form that is exported (ONNX, TorchScript) and run on CUDA; on the CPU `hifigan.inference.tiled`
runs the same folded weights on cache-sized time tiles.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.inference.gemm import gemm_conv
from hifigan.models.generator import Generator
from hifigan.models.layers import Activation, Block

# The layer kinds implemented here (see GeneratorLayers.kinds); the MRF fold needs the activation that
# follows each MRF to be positively homogeneous, which leaky ReLU is.
LAYERS = frozenset({"conv1d", "conv_transpose1d", "leaky_relu", "output tanh"})


def activate(x: torch.Tensor, act: Activation | None) -> torch.Tensor:
    """act(x) as a new tensor (x itself when there is no activation)."""
    return x if act is None else F.leaky_relu(x, act.slope)


def activate_(x: torch.Tensor, act: Activation | None) -> torch.Tensor:
    """act(x) in place (leaky ReLU or tanh, the kinds in LAYERS)."""
    if act is None:
        return x
    return torch.tanh_(x) if act.kind == "tanh" else F.leaky_relu_(x, act.slope)


def _plain_copy(conv: nn.Conv1d | nn.ConvTranspose1d, two_d: bool) -> nn.Module:
    """A plain (unparametrized) copy of a conv; as a height-1 2-D conv when `two_d`."""
    k, s, p, d = conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0]
    if isinstance(conv, nn.ConvTranspose1d):
        q, c_in, c_out = conv.output_padding[0], conv.in_channels, conv.out_channels
        new: nn.Module = (
            nn.ConvTranspose2d(c_in, c_out, (1, k), (1, s), padding=(0, p), output_padding=(0, q))
            if two_d else nn.ConvTranspose1d(c_in, c_out, k, s, padding=p, output_padding=q)
        )
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
    """`Generator` for inference: [B, num_mels, F] -> [B, 1, F * hop], equal outputs, less memory traffic.

    Raises HifiganError naming the first layer of `generator` it does not implement (see LAYERS)."""

    def __init__(self, generator: Generator, layout: str = "2d") -> None:
        super().__init__()
        if layout not in ("1d", "2d", "gemm"):
            raise ValueError(f"layout must be '1d', '2d' or 'gemm', got {layout!r}")
        layers = generator.layers()
        layers.check(LAYERS, "fused")
        self.layout, self.layers = layout, layers

        def conv(c) -> nn.Module:
            return _plain_copy(generator.get_submodule(c.where), layout == "2d")

        self.conv_pre = conv(layers.conv_pre)
        self.ups = nn.ModuleList(conv(stage.up) for stage in layers.stages)
        # Per block (stage by stage), its convolutions in application order.
        self.blocks = nn.ModuleList(
            nn.ModuleList(conv(c) for unit in block.units for c in unit)
            for stage in layers.stages
            for block in stage.blocks
        )
        self.conv_post = conv(layers.conv_post)
        with torch.no_grad():  # fold each stage's MRF mean into the layer after it
            for stage, layer in zip(layers.stages, [*list(self.ups)[1:], self.conv_post]):
                layer.weight.mul_(1.0 / len(stage.blocks))
        if layout == "2d":  # channels-last weights too, or every call re-lays them out
            self.to(memory_format=torch.channels_last)
        if layout == "gemm":  # the folded convs, each as its matrix
            self.conv_pre, self.conv_post = gemm_conv(self.conv_pre), gemm_conv(self.conv_post)
            self.ups = nn.ModuleList(gemm_conv(up) for up in self.ups)
            self.blocks = nn.ModuleList(nn.ModuleList(gemm_conv(c) for c in convs) for convs in self.blocks)
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def _block(convs: nn.ModuleList, block: Block, x: torch.Tensor, x_act: torch.Tensor) -> torch.Tensor:
        """One residual block on x, given x_act = its first activation of x (shared by the stage's blocks);
        never writes x."""
        k = 0
        for u, unit in enumerate(block.units):
            h = convs[k](x_act if u == 0 else activate(x, unit[0].act))
            for c in unit[1:]:
                k += 1
                h = convs[k](activate_(h, c.act))
            k += 1
            x = h.add_(x)
        return x

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, frames] -> [B, 1, frames * hop] (same as Generator.forward)."""
        if self.layout == "gemm":
            return self._forward(mel.transpose(0, 1)).transpose(0, 1)  # channel-major [C, B, T] inside
        x = mel.unsqueeze(2).contiguous(memory_format=torch.channels_last) if self.layout == "2d" else mel
        x = self._forward(x)
        return x.squeeze(2) if self.layout == "2d" else x

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = self.layers
        x = self.conv_pre(activate(x, layers.conv_pre.act))
        b = 0
        for up, stage in zip(self.ups, layers.stages):
            x = up(activate_(x, stage.up.act))  # x is ours (conv_pre's output or the last MRF sum)
            shared: dict[Activation | None, torch.Tensor] = {}  # every block starts with act(x): once per act
            out = None
            for block in stage.blocks:
                act = block.units[0][0].act
                if act not in shared:
                    shared[act] = activate(x, act)
                y = self._block(self.blocks[b], block, x, shared[act])
                out = y if out is None else out.add_(y)
                b += 1
            x = out  # the 1/num_kernels is folded into the next layer
        return activate_(self.conv_post(activate_(x, layers.conv_post.act)), layers.output)
