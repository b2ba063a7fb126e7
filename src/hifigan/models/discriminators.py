"""HiFi-GAN discriminators (paper Sec. 2.2-2.3): multi-period (MPD) and multi-scale (MSD) ensembles.

Both ensembles score real and generated audio with every sub-discriminator and return
(real scores, generated scores, real feature maps, generated feature maps), as the official code does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.arrays.padding import reflect_pad
from hifigan.config.values import integer, integers
from hifigan.models.generator import LRELU_SLOPE, get_padding
from hifigan.models.norms import spectral_norm, weight_norm

Scores = list[torch.Tensor]
FeatureMaps = list[list[torch.Tensor]]

MPD_PERIODS = (2, 3, 5, 7, 11)  # the official periods: primes, so no period divides another
MSD_SCALES = 3  # the official scales: raw audio, then pooled twice
MSD_POOL = (4, 2, 2)  # the official AvgPool1d between scales: kernel, stride, padding
MPD_CHANNELS = (32, 128, 512, 1024, 1024)  # the official output channels of DiscriminatorP's five convs
MSD_CHANNELS = (128, 128, 256, 512, 1024, 1024, 1024)  # ... and of DiscriminatorS's seven convs
MSD_GROUPS = (1, 4, 16, 16, 16, 16, 1)  # the official groups of DiscriminatorS's convs


def layer_widths(name: str, values: object, count: int) -> tuple[int, ...]:
    """One width per convolution: exactly `count` integers >= 1."""
    widths = integers(name, values, 1)
    if len(widths) != count:
        raise ValueError(f"{name} must list {count} integers (one per convolution), got {len(widths)}: {values!r}")
    return widths


class _ConvStack(nn.Module):
    """Convolutions with leaky ReLU (negative slope `slope`), then a 1-channel output conv; every activation is a
    feature map."""

    convs: nn.ModuleList
    conv_post: nn.Module
    slope: float = LRELU_SLOPE  # HiFi-GAN's, for MPD and MSD

    def score(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), self.slope)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class DiscriminatorP(_ConvStack):
    """Period-p discriminator: folds audio of length T into a [T/p, p] image, 2-D convs along time."""

    def __init__(self, period: int, kernel_size: int = 5, stride: int = 3, use_spectral_norm: bool = False,
                 channels: tuple[int, ...] = MPD_CHANNELS) -> None:
        """`channels`: the five convs' output channels (the official ones by default); the first four stride."""
        super().__init__()
        self.period = period
        norm = spectral_norm if use_spectral_norm else weight_norm
        pad = (get_padding(kernel_size), 0)  # the official get_padding(5, 1): its default kernel's
        chans = (1, *layer_widths("channels", channels, len(MPD_CHANNELS)))
        strided = [norm(nn.Conv2d(i, o, (kernel_size, 1), (stride, 1), padding=pad)) for i, o in pairwise(chans[:-1])]
        last = norm(nn.Conv2d(chans[-2], chans[-1], (kernel_size, 1), 1, padding=pad))
        self.convs = nn.ModuleList([*strided, last])
        self.conv_post = norm(nn.Conv2d(chans[-1], 1, (3, 1), 1, padding=(get_padding(3), 0)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, c, t = x.shape
        if t % self.period:
            n_pad = self.period - t % self.period
            x = reflect_pad(x, 0, n_pad)
            t += n_pad
        return self.score(x.view(b, c, t // self.period, self.period))


class DiscriminatorS(_ConvStack):
    """Scale discriminator: grouped strided 1-D convs on raw (or average-pooled) audio."""

    def __init__(self, use_spectral_norm: bool = False, channels: tuple[int, ...] = MSD_CHANNELS,
                 groups: tuple[int, ...] = MSD_GROUPS) -> None:
        """`channels` and `groups`: the seven convs' output channels and groups (the official ones by default);
        each conv's groups must divide its input and output channels."""
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        chans = (1, *layer_widths("channels", channels, len(MSD_CHANNELS)))
        groups = layer_widths("groups", groups, len(MSD_GROUPS))
        for i, (c_in, c_out, g) in enumerate(zip(chans, chans[1:], groups)):
            if c_in % g or c_out % g:
                raise ValueError(f"groups[{i}] {g} must divide conv {i}'s input and output channels ({c_in}, {c_out})")
        # (kernel, stride, padding) of each conv
        shapes = [(15, 1, 7), (41, 2, 20), (41, 2, 20), (41, 4, 20), (41, 4, 20), (41, 1, 20), (5, 1, 2)]
        self.convs = nn.ModuleList(norm(nn.Conv1d(i, o, k, s, groups=g, padding=p))
                                   for i, o, g, (k, s, p) in zip(chans, chans[1:], groups, shapes))
        self.conv_post = norm(nn.Conv1d(chans[-1], 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.score(x)


class _Ensemble(nn.Module):
    """Runs each sub-discriminator on its view of the real and generated audio."""

    discriminators: nn.ModuleList

    def views(self, y: torch.Tensor) -> Iterator[torch.Tensor]:
        """The input each sub-discriminator sees, in order."""
        for _ in self.discriminators:
            yield y

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor) -> tuple[Scores, Scores, FeatureMaps, FeatureMaps]:
        y_d_rs, y_d_gs, fmap_rs, fmap_gs = [], [], [], []
        for d, y_i, y_hat_i in zip(self.discriminators, self.views(y), self.views(y_hat)):
            y_d_r, fmap_r = d(y_i)
            y_d_g, fmap_g = d(y_hat_i)
            y_d_rs.append(y_d_r)
            fmap_rs.append(fmap_r)
            y_d_gs.append(y_d_g)
            fmap_gs.append(fmap_g)
        return y_d_rs, y_d_gs, fmap_rs, fmap_gs

    def generator_side(self, y: torch.Tensor, y_hat: torch.Tensor) -> tuple[Scores, FeatureMaps, FeatureMaps]:
        """What the generator step needs: (generated scores, real feature maps, generated feature maps).

        The real branch runs without a graph (its feature maps are constants of the generator's loss). Each
        sub-discriminator still sees the real audio first, then the generated audio, as in `forward`, so
        spectral norm's power iteration advances in the official order.
        """
        y_d_gs, fmap_rs, fmap_gs = [], [], []
        for d, y_i, y_hat_i in zip(self.discriminators, self.views(y), self.views(y_hat)):
            with torch.no_grad():
                _, fmap_r = d(y_i)
            y_d_g, fmap_g = d(y_hat_i)
            y_d_gs.append(y_d_g)
            fmap_rs.append(fmap_r)
            fmap_gs.append(fmap_g)
        return y_d_gs, fmap_rs, fmap_gs


class MultiPeriodDiscriminator(_Ensemble):
    """MPD: one DiscriminatorP per period (the official 2, 3, 5, 7, 11 by default), in the given order, each with
    the convs' output `channels` (the official ones by default)."""

    def __init__(self, periods: tuple[int, ...] = MPD_PERIODS, channels: tuple[int, ...] = MPD_CHANNELS) -> None:
        super().__init__()
        self.periods = integers("periods", periods, 1)
        self.discriminators = nn.ModuleList(DiscriminatorP(p, channels=channels) for p in self.periods)


def msd_pooling(scales: object = MSD_SCALES, pool_kernel_size: object = MSD_POOL[0],
                pool_stride: object = MSD_POOL[1], pool_padding: object = MSD_POOL[2]) -> tuple[int, int, int, int]:
    """The MSD's scales and its AvgPool1d's kernel, stride and padding, checked (ValueError naming the argument)."""
    scales = integer("scales", scales, 1)
    kernel = integer("pool_kernel_size", pool_kernel_size, 1)
    stride = integer("pool_stride", pool_stride, 1)
    padding = integer("pool_padding", pool_padding, 0)
    if padding > kernel // 2:
        raise ValueError(f"pool_padding {padding} must be at most half of pool_kernel_size {kernel}")
    return scales, kernel, stride, padding


def msd_min_samples(scales: object = MSD_SCALES, pool_kernel_size: object = MSD_POOL[0],
                    pool_stride: object = MSD_POOL[1], pool_padding: object = MSD_POOL[2]) -> int:
    """The shortest audio (training segment) whose last pooled scale still sees a sample (1 for the official MSD)."""
    scales, kernel, stride, padding = msd_pooling(scales, pool_kernel_size, pool_stride, pool_padding)
    need = 1
    for _ in range(scales - 1):
        # the least input that AvgPool1d's floor((T + 2 pad - kernel) / stride) + 1 maps to `need` samples or more
        need = max(1, (need - 1) * stride + kernel - 2 * padding)
    return need


class MultiScaleDiscriminator(_Ensemble):
    """MSD: scale 0 sees the raw audio (spectral norm), each next scale the previous view average-pooled (weight
    norm). The defaults are the official three scales with AvgPool1d(4, 2, padding=2) between them, and the official
    DiscriminatorS `channels` and `groups`."""

    def __init__(self, scales: int = MSD_SCALES, pool_kernel_size: int = MSD_POOL[0], pool_stride: int = MSD_POOL[1],
                 pool_padding: int = MSD_POOL[2], channels: tuple[int, ...] = MSD_CHANNELS,
                 groups: tuple[int, ...] = MSD_GROUPS) -> None:
        super().__init__()
        scales, kernel, stride, padding = msd_pooling(scales, pool_kernel_size, pool_stride, pool_padding)
        self.discriminators = nn.ModuleList(DiscriminatorS(i == 0, channels, groups) for i in range(scales))
        self.meanpools = nn.ModuleList(nn.AvgPool1d(kernel, stride, padding=padding) for _ in range(scales - 1))

    def views(self, y: torch.Tensor) -> Iterator[torch.Tensor]:
        pools: list[Callable[[torch.Tensor], torch.Tensor]] = [lambda t: t, *self.meanpools]
        for pool in pools:
            y = pool(y)
            yield y

    def view_lengths(self, samples: int) -> list[int]:
        """The length each scale sees of `samples` samples (AvgPool1d's floor((T + 2 pad - kernel) / stride) + 1)."""
        lengths = [samples]
        for pool in self.meanpools:
            k, s, p = pool.kernel_size[0], pool.stride[0], pool.padding[0]
            lengths.append((lengths[-1] + 2 * p - k) // s + 1)
        return lengths
