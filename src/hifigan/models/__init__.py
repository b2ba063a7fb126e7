"""HiFi-GAN networks: the generator and the two discriminator ensembles."""

from hifigan.models.discriminators import (
    DiscriminatorP,
    DiscriminatorS,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
)
from hifigan.models.generator import Generator, ResBlock1, ResBlock2

__all__ = [
    "DiscriminatorP",
    "DiscriminatorS",
    "Generator",
    "MultiPeriodDiscriminator",
    "MultiScaleDiscriminator",
    "ResBlock1",
    "ResBlock2",
]
