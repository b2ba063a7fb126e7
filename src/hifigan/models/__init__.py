"""HiFi-GAN networks: the generator, the two discriminator ensembles, and the optional MRD. The generators by name
(config.generator) are in generators.py, the receptive field of one in receptive_field.py."""

from hifigan.models.discriminators import (
    DiscriminatorP,
    DiscriminatorS,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
)
from hifigan.models.generator import Generator, ResBlock1, ResBlock2
from hifigan.models.mrd import UNIVNET_RESOLUTIONS, DiscriminatorR, MultiResolutionDiscriminator

__all__ = [
    "UNIVNET_RESOLUTIONS",
    "DiscriminatorP",
    "DiscriminatorR",
    "DiscriminatorS",
    "Generator",
    "MultiPeriodDiscriminator",
    "MultiResolutionDiscriminator",
    "MultiScaleDiscriminator",
    "ResBlock1",
    "ResBlock2",
]
