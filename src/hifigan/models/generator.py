"""The HiFi-GAN generator (paper Fig. 1): mel -> [upsample -> multi-receptive-field fusion] x N -> waveform."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.config import HifiganConfig
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
    """V1/V2 residual block: per dilation d, x += conv_1(lrelu(conv_d(lrelu(x))))."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList([_conv(channels, kernel_size, d) for d in dilation])
        self.convs2 = nn.ModuleList([_conv(channels, kernel_size, 1) for _ in dilation])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class ResBlock2(nn.Module):
    """V3 residual block: per dilation d, x += conv_d(lrelu(x))."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3)) -> None:
        super().__init__()
        self.convs = nn.ModuleList([_conv(channels, kernel_size, d) for d in dilation])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c in self.convs:
            x = x + c(F.leaky_relu(x, LRELU_SLOPE))
        return x


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
        self.ups = nn.ModuleList(
            weight_norm(nn.ConvTranspose1d(ch // 2**i, ch // 2 ** (i + 1), k, u, padding=(k - u) // 2))
            for i, (u, k) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes))
        )
        # Flat list, num_kernels blocks per upsampling stage (the official layout and key names).
        self.resblocks = nn.ModuleList(
            resblock(ch // 2 ** (i + 1), k, tuple(d))
            for i in range(self.num_upsamples)
            for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes)
        )
        self.conv_post = weight_norm(nn.Conv1d(ch // 2**self.num_upsamples, 1, 7, 1, padding=3))

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
            x = self.mrf(i, up(F.leaky_relu(x, LRELU_SLOPE)))
        x = F.leaky_relu(x)  # the official code uses the default slope (0.01) here
        return torch.tanh(self.conv_post(x))

    def remove_weight_norm(self) -> Generator:
        """Fold weight norm into plain weights for inference (same outputs, less work)."""
        remove_parametrizations(self)
        return self
