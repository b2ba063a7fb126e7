"""A generator defined outside the package, as a fork would add one: `IstftGenerator` (a SiLU conv stack with an
iSTFT head, no layer description; `DeclaringIstftGenerator` declares its receptive field), a tiny discriminator to
train it against, and `registered()`, the one registration each needs (undone on exit, so other tests see the
built-ins). Used by test_generators.py and test_generator_inference.py."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from hifigan import HifiganConfig, register_generator
from hifigan.config.values import integer
from hifigan.models.generators import GENERATORS
from hifigan.models.layers import ReceptiveField
from hifigan.models.norms import weight_norm
from hifigan.training.registry import DISCRIMINATORS, register_discriminator
from tests.support.tiny import TinyDiscriminator, tiny_config

FIELD = ReceptiveField(5, 5)  # conv_pre (kernel 5): 2, two blocks (kernel 3): 1 each, the overlap-add: 1


class IstftGenerator(nn.Module):
    """mel -> conv (kernel 5) -> `blocks` residual SiLU convs (kernel 3) -> per frame log-magnitude and phase of
    hop + 1 bins -> inverse real DFT of n_fft = 2 hop, Hann window, overlap-add at the hop (one transposed conv
    with fixed weights, so it exports) -> frames x hop samples (hop / 2 trimmed at each end)."""

    def __init__(self, config, channels: int = 8, blocks: int = 2) -> None:
        super().__init__()
        channels, self.blocks = integer("channels", channels, 1), integer("blocks", blocks, 0)
        self.hop = config.hop_size
        if self.hop % 2:
            raise ValueError(f"hop_size must be even, got {self.hop}")
        n_fft, bins = 2 * self.hop, self.hop + 1
        self.conv_pre = weight_norm(nn.Conv1d(config.num_mels, channels, 5, padding=2))
        self.convs = nn.ModuleList(weight_norm(nn.Conv1d(channels, channels, 3, padding=1)) for _ in range(blocks))
        self.activation = nn.SiLU()
        self.head = nn.Conv1d(channels, 2 * bins, 1)
        n, k = torch.arange(n_fft, dtype=torch.float64), torch.arange(bins, dtype=torch.float64)[:, None]
        angle = 2 * math.pi * k * n / n_fft
        scale = torch.where((k == 0) | (k == bins - 1), 1.0, 2.0) / n_fft  # the one-sided spectrum's weights
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        basis = torch.cat([scale * torch.cos(angle), -scale * torch.sin(angle)]) * window  # [2 bins, n_fft]
        self.register_buffer("basis", basis[:, None, :].float())

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.activation(self.conv_pre(mel))
        for conv in self.convs:
            x = x + conv(self.activation(x))
        log_magnitude, phase = self.head(x).chunk(2, dim=1)
        magnitude = torch.exp(log_magnitude).clamp(max=100.0)
        spectrum = torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1)
        audio = F.conv_transpose1d(spectrum, self.basis, stride=self.hop)  # [B, 1, (frames + 1) hop]
        return audio[..., self.hop // 2 : -(self.hop // 2)]


class DeclaringIstftGenerator(IstftGenerator):
    """The same generator, declaring its receptive field."""

    def receptive_field(self) -> ReceptiveField:
        return ReceptiveField(3 + self.blocks, 3 + self.blocks)


@contextlib.contextmanager
def registered() -> Iterator[None]:
    """config.generator "istft" and "istft-declared", config.discriminators "tiny_d", for the duration."""
    register_generator("istft", IstftGenerator)
    register_generator("istft-declared", DeclaringIstftGenerator)
    register_discriminator("tiny_d", lambda config: TinyDiscriminator())
    try:
        yield
    finally:
        del GENERATORS["istft"], GENERATORS["istft-declared"], DISCRIMINATORS["tiny_d"]


def istft_config(name: str = "istft", **overrides) -> HifiganConfig:
    """tiny_config's mel and hop (16) with the iSTFT generator, 8 channels wide; the HiFi-GAN keys stay (unused)."""
    return tiny_config(**{"generator": name, "generator_args": {"channels": 8}, **overrides})


def seeded_mel(frames: int, *, batch: int | None = None, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    """A random 16-bin log-mel-like input, [16, frames] or [batch, 16, frames]."""
    shape = (16, frames) if batch is None else (batch, 16, frames)
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed)) - 3
