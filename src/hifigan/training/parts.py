"""The discriminators by name: the registry config.discriminators draws from, and building them.

A discriminator is an nn.Module whose `forward(y, y_hat)` takes real and generated audio [B, 1, T] and returns
(real scores, generated scores, real feature maps, generated feature maps), one entry per sub-discriminator, as
the official MPD and MSD do; `generator_side(y, y_hat)` -> (generated scores, real maps, generated maps) is used
in the generator step when the module has it (models.discriminators' ensembles run the real branch without a graph).

Registry order is the order of the discriminator optimizer's parameters and of the loss sums: MSD first, then MPD,
as the official `AdamW(chain(msd.parameters(), mpd.parameters()))`, so official do_* optimizer states map 1:1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import nn

from hifigan.models.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.models.mrd import MultiResolutionDiscriminator

if TYPE_CHECKING:  # hifigan.config consults this registry: importing it here would close a circle
    from hifigan.config import HifiganConfig

DiscriminatorFactory = Callable[["HifiganConfig"], nn.Module]

DISCRIMINATORS: dict[str, DiscriminatorFactory] = {
    "msd": lambda config: MultiScaleDiscriminator(),
    "mpd": lambda config: MultiPeriodDiscriminator(),
    "mrd": lambda config: MultiResolutionDiscriminator(),  # optional (UnivNet); not in official do_* files
}
# Checkpoint keys that are not discriminators (a discriminator's weights are stored under its name).
RESERVED = ("hifigan_checkpoint", "config", "generator", "optim_g", "optim_d", "sched_g", "sched_d", "step", "epoch",
            "batch_in_epoch", "batch_size", "world_size", "rng", "data")


def register_discriminator(name: str, factory: DiscriminatorFactory) -> DiscriminatorFactory:
    """Make `factory(config) -> module` available as a name in config.discriminators (after the built-in ones)."""
    if name in DISCRIMINATORS and DISCRIMINATORS[name] is not factory:
        raise ValueError(f"a discriminator named {name!r} is registered already")
    if name in RESERVED:
        raise ValueError(f"{name!r} is a checkpoint key of its own; choose another discriminator name")
    DISCRIMINATORS[name] = factory
    return factory


def discriminator_names(config: HifiganConfig) -> list[str]:
    """The config's discriminators in registry order (the optimizer's and the checkpoint's order)."""
    return [name for name in DISCRIMINATORS if name in config.discriminators]


def build_discriminators(config: HifiganConfig) -> dict[str, nn.Module]:
    """name -> a fresh module, for each discriminator the config names, in registry order."""
    return {name: DISCRIMINATORS[name](config) for name in discriminator_names(config)}
