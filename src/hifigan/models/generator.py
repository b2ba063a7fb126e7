"""The HiFi-GAN generator (paper Fig. 1): mel -> [upsample -> multi-receptive-field fusion] x N -> waveform."""

from __future__ import annotations

import torch
from torch import nn

from hifigan.arrays.upsampling import transposed_padding
from hifigan.config import HifiganConfig
from hifigan.models.layers import Block, GeneratorLayers, Stage, custom_methods, describe_activation, describe_conv
from hifigan.models.norms import remove_parametrizations, weight_norm

LRELU_SLOPE = 0.1


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of a stride-1 dilated convolution."""
    return (kernel_size * dilation - dilation) // 2


def _conv(channels: int, kernel_size: int, dilation: int) -> nn.Conv1d:
    return weight_norm(
        nn.Conv1d(channels, channels, kernel_size, 1, dilation=dilation, padding=get_padding(kernel_size, dilation))
    )


class ResBlock1(nn.Module):
    """V1/V2 residual block: per dilation d, x += conv_1(act(conv_d(act(x)))), act = leaky ReLU (0.1)."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList([_conv(channels, kernel_size, d) for d in dilation])
        self.convs2 = nn.ModuleList([_conv(channels, kernel_size, 1) for _ in dilation])
        self.activation = nn.LeakyReLU(LRELU_SLOPE)  # no parameters: the state dict stays the official one

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(self.activation(c1(self.activation(x))))
        return x

    def layers(self, where: str) -> Block:
        """This block as `forward` applies it (see hifigan.models.layers)."""
        act = describe_activation(self.activation, f"{where}.activation")
        units = tuple(
            (describe_conv(c1, f"{where}.convs1.{j}", act), describe_conv(c2, f"{where}.convs2.{j}", act))
            for j, (c1, c2) in enumerate(zip(self.convs1, self.convs2))
        )
        return Block(where, units, next(iter(custom_methods(self, ResBlock1, ("forward",))), None))


class ResBlock2(nn.Module):
    """V3 residual block: per dilation d, x += conv_d(act(x)), act = leaky ReLU (0.1)."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3)) -> None:
        super().__init__()
        self.convs = nn.ModuleList([_conv(channels, kernel_size, d) for d in dilation])
        self.activation = nn.LeakyReLU(LRELU_SLOPE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c in self.convs:
            x = x + c(self.activation(x))
        return x

    def layers(self, where: str) -> Block:
        """This block as `forward` applies it (see hifigan.models.layers)."""
        act = describe_activation(self.activation, f"{where}.activation")
        units = tuple((describe_conv(c, f"{where}.convs.{j}", act),) for j, c in enumerate(self.convs))
        return Block(where, units, next(iter(custom_methods(self, ResBlock2, ("forward",))), None))


class Generator(nn.Module):
    """Fully convolutional mel-to-waveform generator; module names match the official checkpoints.

    The official `init_weights` acts on the weight-normed `weight` attribute, which the norm recomputes on
    the next forward, so the official models start from PyTorch's default initialisation, as these do.
    """

    def __init__(self, config: HifiganConfig) -> None:
        super().__init__()
        self.num_kernels = len(config.resblock_kernel_sizes)
        self.num_upsamples = len(config.upsample_rates)
        ch = config.upsample_initial_channel
        resblock = ResBlock1 if config.resblock == "1" else ResBlock2

        self.conv_pre = weight_norm(nn.Conv1d(config.num_mels, ch, 7, 1, padding=3))
        self.ups = nn.ModuleList(  # exactly u samples per input sample: the official padding where it is exact
            weight_norm(nn.ConvTranspose1d(ch // 2**i, ch // 2 ** (i + 1), k, u, *transposed_padding(u, k)))
            for i, (u, k) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes))
        )
        # Flat list, num_kernels blocks per upsampling stage (the official layout and key names).
        self.resblocks = nn.ModuleList(
            resblock(ch // 2 ** (i + 1), k, tuple(d))
            for i in range(self.num_upsamples)
            for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes)
        )
        self.conv_post = weight_norm(nn.Conv1d(ch // 2**self.num_upsamples, 1, 7, 1, padding=3))
        # Parameter-free, so the state dict stays the official one; the engines read them (layers()).
        self.activation = nn.LeakyReLU(LRELU_SLOPE)  # before each upsampling
        self.post_activation = nn.LeakyReLU()  # before conv_post: the official code uses the default slope, 0.01
        self.output_activation = nn.Tanh()

    def mrf(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Multi-receptive-field fusion of stage i: the mean of its residual blocks."""
        blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
        out = blocks[0](x)
        for block in blocks[1:]:
            out = out + block(x)
        return out / self.num_kernels

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, frames] log-mel -> [B, 1, frames * prod(upsample_rates)] audio in (-1, 1)."""
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = self.mrf(i, up(self.activation(x)))
        return self.output_activation(self.conv_post(self.post_activation(x)))

    def layers(self) -> GeneratorLayers:
        """The network as `forward` applies it, for the inference engines (see hifigan.models.layers)."""
        act = describe_activation(self.activation, "activation")
        n = self.num_kernels
        stages = tuple(
            Stage(describe_conv(up, f"ups.{i}", act),
                  tuple(self.resblocks[b].layers(f"resblocks.{b}") for b in range(i * n, (i + 1) * n)))
            for i, up in enumerate(self.ups)
        )
        return GeneratorLayers(
            conv_pre=describe_conv(self.conv_pre, "conv_pre", None),
            stages=stages,
            conv_post=describe_conv(self.conv_post, "conv_post", describe_activation(self.post_activation,
                                                                                     "post_activation")),
            output=describe_activation(self.output_activation, "output_activation"),
            custom=custom_methods(self, Generator, ("forward", "mrf")),
        )

    def remove_weight_norm(self) -> Generator:
        """Fold weight norm into plain weights for inference (same outputs, less work)."""
        remove_parametrizations(self)
        return self
