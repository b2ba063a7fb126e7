"""The discriminators by name: the registry config.discriminators draws from, and building each with its
config.discriminator_args (defaults: the official recipe's MPD and MSD, UnivNet's MRD).

A discriminator is an nn.Module whose `forward(y, y_hat)` takes real and generated audio [B, 1, T] and returns
(real scores, generated scores, real feature maps, generated feature maps), one entry per sub-discriminator, as
the official MPD and MSD do; `generator_side(y, y_hat)` -> (generated scores, real maps, generated maps) is used
in the generator step when the module has it (models.discriminators' ensembles run the real branch without a graph).

Registry order is the order of the discriminator optimizer's parameters and of the loss sums: MSD first, then MPD,
as the official `AdamW(chain(msd.parameters(), mpd.parameters()))`, so official do_* optimizer states map 1:1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from hifigan.config import HifiganConfig
from hifigan.models.discriminators import (
    MPD_CHANNELS,
    MPD_PERIODS,
    MSD_CHANNELS,
    MSD_GROUPS,
    MSD_POOL,
    MSD_SCALES,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
)
from hifigan.models.mrd import (
    MRD_CHANNELS,
    MRD_WINDOW,
    UNIVNET_RESOLUTIONS,
    MultiResolutionDiscriminator,
    mrd_min_samples,
)
from hifigan.official_keys import OFFICIAL_DISCRIMINATORS
from hifigan.training.registry import build_part, lookup, non_default_arguments

DiscriminatorFactory = Callable[..., nn.Module]  # factory(config, **discriminator_args[name]) -> module


def multi_scale(config: HifiganConfig, scales: int = MSD_SCALES, pool_kernel_size: int = MSD_POOL[0],
                pool_stride: int = MSD_POOL[1], pool_padding: int = MSD_POOL[2],
                channels: tuple[int, ...] = MSD_CHANNELS, groups: tuple[int, ...] = MSD_GROUPS
                ) -> MultiScaleDiscriminator:
    """The MSD; every scale must see at least one sample of a training segment."""
    module = MultiScaleDiscriminator(scales, pool_kernel_size, pool_stride, pool_padding, channels, groups)
    lengths = module.view_lengths(config.segment_size)
    if lengths[-1] < 1:
        raise ValueError(f"segment_size {config.segment_size} is too short for the MSD's pooling (scale "
                         f"{len(lengths) - 1} would see {lengths[-1]} samples)")
    return module


def multi_period(config: HifiganConfig, periods: tuple[int, ...] = MPD_PERIODS,
                 channels: tuple[int, ...] = MPD_CHANNELS) -> MultiPeriodDiscriminator:
    """The MPD; no period may exceed the training segment (its reflect padding needs the samples)."""
    module = MultiPeriodDiscriminator(periods, channels)
    if max(module.periods) > config.segment_size:
        raise ValueError(f"period {max(module.periods)} is longer than segment_size {config.segment_size}")
    return module


def multi_resolution(config: HifiganConfig, resolutions: tuple[tuple[int, int, int], ...] = UNIVNET_RESOLUTIONS,
                     window: str = MRD_WINDOW, channels: int = MRD_CHANNELS) -> MultiResolutionDiscriminator:
    """The MRD; the training segment must be long enough to frame at every resolution."""
    module = MultiResolutionDiscriminator(resolutions, channels, window)
    needs = mrd_min_samples(module.resolutions)
    if config.segment_size < needs:
        raise ValueError(f"segment_size {config.segment_size} is too short for the MRD discriminator (needs >= "
                         f"{needs} samples at resolutions {[list(r) for r in module.resolutions]})")
    return module


DISCRIMINATORS: dict[str, DiscriminatorFactory] = {
    "msd": multi_scale,
    "mpd": multi_period,
    "mrd": multi_resolution,  # optional (UnivNet); not in official do_* files
}
# Checkpoint keys that are not discriminators (a discriminator's weights are stored under its name).
RESERVED = ("hifigan_checkpoint", "config", "generator", "optim_g", "optim_d", "sched_g", "sched_d", "step", "epoch",
            "batch_in_epoch", "batch_size", "world_size", "rng", "data")


def register_discriminator(name: str, factory: DiscriminatorFactory) -> DiscriminatorFactory:
    """Make `factory(config, **arguments) -> module` available as a name in config.discriminators (after the
    built-in ones); the keyword arguments it declares are what discriminator_args[name] may set."""
    if name in DISCRIMINATORS and DISCRIMINATORS[name] is not factory:
        raise ValueError(f"a discriminator named {name!r} is registered already")
    if name in RESERVED:
        raise ValueError(f"{name!r} is a checkpoint key of its own; choose another discriminator name")
    DISCRIMINATORS[name] = factory
    return factory


def discriminator_names(config: HifiganConfig) -> list[str]:
    """The config's discriminators in registry order (the optimizer's and the checkpoint's order); an unknown name
    is a ConfigError."""
    for name in config.discriminators:
        lookup(DISCRIMINATORS, "discriminator", name)
    return [name for name in DISCRIMINATORS if name in config.discriminators]


def build_discriminators(config: HifiganConfig) -> dict[str, nn.Module]:
    """name -> a fresh module built with discriminator_args[name], for each discriminator the config names, in
    registry order. Names, arguments and values are checked here (a one-line ConfigError)."""
    return {name: build_part(DISCRIMINATORS, "discriminator", name, config, "discriminator_args")
            for name in discriminator_names(config)}


def non_official_arguments(discriminator_args: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The arguments that take MPD or MSD off the official layout (an official do_* file cannot hold those), as
    "discriminator_args['mpd']['periods']"."""
    return [f"discriminator_args[{name!r}][{key!r}]" for name in OFFICIAL_DISCRIMINATORS
            for key in non_default_arguments(DISCRIMINATORS[name], discriminator_args.get(name, {}))]
