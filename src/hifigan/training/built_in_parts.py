"""The built-in discriminators' factories (the MSD, the MPD, the MRD: `factory(config, **arguments) -> module`, their
defaults the official recipe's, as training.registry names them) and, beside each, its floor: the shortest training
segment it takes, `min_samples(config, **arguments) -> int`, read with the factory's defaults where the config gives
none. A factory refuses a segment too short for it (SegmentTooShort, saying what it needs); the registry's build ends
the line with the length every part trains with."""

from __future__ import annotations

from typing import Any

from hifigan.config import HifiganConfig
from hifigan.config.values import integers
from hifigan.models.discriminators import (
    MPD_CHANNELS,
    MPD_PERIODS,
    MSD_CHANNELS,
    MSD_GROUPS,
    MSD_POOL,
    MSD_SCALES,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
    msd_min_samples,
)
from hifigan.models.mrd import (
    MRD_CHANNELS,
    MRD_LRELU_SLOPE,
    MRD_WINDOW,
    UNIVNET_RESOLUTIONS,
    MultiResolutionDiscriminator,
    mrd_min_samples,
)
from hifigan.models.named_parts import SegmentTooShort
from hifigan.models.stft import check_resolutions


def multi_scale(config: HifiganConfig, scales: int = MSD_SCALES, pool_kernel_size: int = MSD_POOL[0],
                pool_stride: int = MSD_POOL[1], pool_padding: int = MSD_POOL[2],
                channels: tuple[int, ...] = MSD_CHANNELS, groups: tuple[int, ...] = MSD_GROUPS
                ) -> MultiScaleDiscriminator:
    """The MSD; every scale must see at least one sample of a training segment."""
    module = MultiScaleDiscriminator(scales, pool_kernel_size, pool_stride, pool_padding, channels, groups)
    lengths = module.view_lengths(config.segment_size)
    if lengths[-1] < 1:
        empty = next(scale for scale, length in enumerate(lengths) if length < 1)
        raise SegmentTooShort(f"segment_size {config.segment_size} is too short for the MSD's pooling (scale "
                              f"{empty} would see no sample)")
    return module


def msd_floor(config: HifiganConfig, scales: int, pool_kernel_size: int, pool_stride: int, pool_padding: int,
              **_: Any) -> int:
    """The MSD's: its last pooled scale sees a sample."""
    return msd_min_samples(scales, pool_kernel_size, pool_stride, pool_padding)


def multi_period(config: HifiganConfig, periods: tuple[int, ...] = MPD_PERIODS,
                 channels: tuple[int, ...] = MPD_CHANNELS) -> MultiPeriodDiscriminator:
    """The MPD; no period may exceed the training segment (its reflect padding needs the samples)."""
    module = MultiPeriodDiscriminator(periods, channels)
    if max(module.periods) > config.segment_size:
        raise SegmentTooShort(f"period {max(module.periods)} is longer than segment_size {config.segment_size}")
    return module


def mpd_floor(config: HifiganConfig, periods: tuple[int, ...], **_: Any) -> int:
    """The MPD's: its longest period."""
    return max(integers("periods", periods, 1))


def multi_resolution(config: HifiganConfig, resolutions: tuple[tuple[int, int, int], ...] = UNIVNET_RESOLUTIONS,
                     window: str = MRD_WINDOW, channels: int = MRD_CHANNELS, lrelu_slope: float = MRD_LRELU_SLOPE
                     ) -> MultiResolutionDiscriminator:
    """The MRD; the training segment must be long enough to frame at every resolution."""
    module = MultiResolutionDiscriminator(resolutions, channels, window, lrelu_slope)
    needs = mrd_min_samples(module.resolutions)
    if config.segment_size < needs:
        raise SegmentTooShort(f"segment_size {config.segment_size} is too short for the MRD discriminator (needs "
                              f">= {needs} samples at resolutions {[list(r) for r in module.resolutions]})")
    return module


def mrd_floor(config: HifiganConfig, resolutions: tuple[tuple[int, int, int], ...], **_: Any) -> int:
    """The MRD's: its longest frame, reflect-padded by (n_fft - hop) // 2."""
    return mrd_min_samples(check_resolutions(resolutions))
