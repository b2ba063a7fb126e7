"""The training parts by name: the discriminators config.discriminators names and the generator loss terms
config.loss_weights weighs, each built with its config arguments (config.discriminator_args / config.loss_args by
part name).

A part's factory is `factory(config, **arguments) -> part`, built and checked by hifigan.models.named_parts (the
builder the generators share; the generator registry is hifigan.models.generators).

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

import torch
from torch import nn

from hifigan.checkpoints.official import OFFICIAL_DISCRIMINATORS
from hifigan.checkpoints.run_files import RESERVED
from hifigan.config import HifiganConfig
from hifigan.errors import ConfigError
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
from hifigan.models.generators import GENERATORS, build_generator
from hifigan.models.mrd import (
    MRD_CHANNELS,
    MRD_LRELU_SLOPE,
    MRD_WINDOW,
    UNIVNET_RESOLUTIONS,
    MultiResolutionDiscriminator,
    mrd_min_samples,
)
from hifigan.models.named_parts import build_part, check_arguments, lookup, non_default_arguments
from hifigan.training.losses import (
    GeneratorObjective,
    GeneratorTerm,
    MelTerm,
    STFTTerm,
    adversarial_term,
    feature_matching_term,
)
from hifigan.training.segment_floor import segment_advice

# ---------------------------------------------------------------- discriminators

DiscriminatorFactory = Callable[..., nn.Module]  # factory(config, **discriminator_args[name]) -> module


def multi_scale(config: HifiganConfig, scales: int = MSD_SCALES, pool_kernel_size: int = MSD_POOL[0],
                pool_stride: int = MSD_POOL[1], pool_padding: int = MSD_POOL[2],
                channels: tuple[int, ...] = MSD_CHANNELS, groups: tuple[int, ...] = MSD_GROUPS
                ) -> MultiScaleDiscriminator:
    """The MSD; every scale must see at least one sample of a training segment."""
    module = MultiScaleDiscriminator(scales, pool_kernel_size, pool_stride, pool_padding, channels, groups)
    lengths = module.view_lengths(config.segment_size)
    if lengths[-1] < 1:
        empty = next(scale for scale, length in enumerate(lengths) if length < 1)
        raise ValueError(f"segment_size {config.segment_size} is too short for the MSD's pooling (scale {empty} "
                         f"would see no sample): {segment_advice(config)}")
    return module


def multi_period(config: HifiganConfig, periods: tuple[int, ...] = MPD_PERIODS,
                 channels: tuple[int, ...] = MPD_CHANNELS) -> MultiPeriodDiscriminator:
    """The MPD; no period may exceed the training segment (its reflect padding needs the samples)."""
    module = MultiPeriodDiscriminator(periods, channels)
    if max(module.periods) > config.segment_size:
        raise ValueError(f"period {max(module.periods)} is longer than segment_size {config.segment_size}: "
                         f"{segment_advice(config)}")
    return module


def multi_resolution(config: HifiganConfig, resolutions: tuple[tuple[int, int, int], ...] = UNIVNET_RESOLUTIONS,
                     window: str = MRD_WINDOW, channels: int = MRD_CHANNELS, lrelu_slope: float = MRD_LRELU_SLOPE
                     ) -> MultiResolutionDiscriminator:
    """The MRD; the training segment must be long enough to frame at every resolution."""
    module = MultiResolutionDiscriminator(resolutions, channels, window, lrelu_slope)
    needs = mrd_min_samples(module.resolutions)
    if config.segment_size < needs:
        raise ValueError(f"segment_size {config.segment_size} is too short for the MRD discriminator (needs >= "
                         f"{needs} samples at resolutions {[list(r) for r in module.resolutions]}): "
                         f"{segment_advice(config)}")
    return module


DISCRIMINATORS: dict[str, DiscriminatorFactory] = {
    "msd": multi_scale,
    "mpd": multi_period,
    "mrd": multi_resolution,  # optional (UnivNet); not in official do_* files
}


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
    return {name: build_part(DISCRIMINATORS, "discriminator", name, config, config.discriminator_args.get(name, {}),
                             f"discriminator_args[{name!r}]")
            for name in discriminator_names(config)}


def non_official_arguments(discriminator_args: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The arguments that take MPD or MSD off the official layout (an official do_* file cannot hold those), as
    "discriminator_args['mpd']['periods']"."""
    return [f"discriminator_args[{name!r}][{key!r}]" for name in OFFICIAL_DISCRIMINATORS
            for key in non_default_arguments(DISCRIMINATORS[name], discriminator_args.get(name, {}))]


# ---------------------------------------------------------------- generator loss terms

# Generator loss terms by the name config.loss_weights uses; summed in this order. An entry is a term (a function or
# callable object, no arguments) or a class whose instances are terms, built as cls(config, **loss_args[name]) (its
# keyword arguments are what loss_args[name] may set). Adding a term: one entry and a weight in the config (terms
# without a weight are not built).
GENERATOR_TERMS: dict[str, GeneratorTerm | type] = {
    "mel": MelTerm,
    "adv": adversarial_term,
    "fm": feature_matching_term,
    "stft": STFTTerm,  # optional (Parallel WaveGAN); weight 0 in the paper's recipe
}
ADVERSARIAL_TERMS = ("adv", "fm")  # the built-in terms that apply only with the discriminators' outputs


def register_generator_term(name: str, term: GeneratorTerm | type) -> GeneratorTerm | type:
    """Make `term` (or a class of terms, as in GENERATOR_TERMS) available as config.loss_weights[name] (off until
    the config gives it a weight > 0)."""
    if name in GENERATOR_TERMS and GENERATOR_TERMS[name] is not term:
        raise ValueError(f"a generator loss term named {name!r} is registered already")
    GENERATOR_TERMS[name] = term
    return term


def _term_factory(entry: GeneratorTerm | type) -> Callable[..., GeneratorTerm]:
    """factory(config, **arguments) -> term: a class itself, a plain term one that takes no arguments."""
    if isinstance(entry, type):
        return entry

    def fixed(config: HifiganConfig) -> GeneratorTerm:
        return entry

    return fixed


def _check_term_names(config: HifiganConfig) -> dict[str, Callable[..., GeneratorTerm]]:
    """Every loss term loss_weights and loss_args name registered, every loss_args argument known to its term: the
    term factories by name."""
    factories = {name: _term_factory(entry) for name, entry in GENERATOR_TERMS.items()}
    for key in ("loss_weights", "loss_args"):
        for name in getattr(config, key):
            lookup(factories, "loss term", name, f" in {key}")
    for name, arguments in config.loss_args.items():
        check_arguments(factories[name], f"loss_args[{name!r}]", arguments)
    return factories


def check_part_names(config: HifiganConfig) -> None:
    """The names of the generator, discriminators and loss terms the config gives, and their arguments' names,
    checked without building a part (a ConfigError naming the key): a typo is one line at once, not after the
    corpus is scanned. Building checks the values."""
    check_arguments(lookup(GENERATORS, "generator", config.generator), "generator_args", config.generator_args)
    for name in discriminator_names(config):
        check_arguments(DISCRIMINATORS[name], f"discriminator_args[{name!r}]", config.discriminator_args.get(name, {}))
    _check_term_names(config)


def build_generator_objective(config: HifiganConfig) -> GeneratorObjective:
    """The terms config.loss_weights weighs (> 0), each built with its loss_args. Every name in loss_weights and
    loss_args must be registered and every argument known to its term, weighted or not (one-line ConfigError)."""
    factories = _check_term_names(config)
    terms = {name: (build_part(factories, "loss term", name, config, config.loss_args.get(name, {}),
                               f"loss_args[{name!r}]"), weight)
             for name in factories if (weight := config.loss_weights.get(name, 0.0)) > 0}
    if not terms:
        raise ConfigError(None, "loss_weights gives no term a weight > 0")
    if config.disc_start_step > 0 and set(terms) <= set(ADVERSARIAL_TERMS):
        raise ConfigError(None, f"loss_weights weighs only {', '.join(terms)}, which need the discriminators' "
                                f"outputs: the generator-only warm-up (disc_start_step {config.disc_start_step}) "
                                f"would have no loss; give mel a weight > 0, or set disc_start_step to 0")
    return GeneratorObjective(terms)


# The configs whose parts built, with the registries they were built from: `train` checks before its scan and its
# Trainer checks again (a Trainer from Python checks alone); a meta build costs ~0.1 s, its first ~1 s (torch's
# meta kernels import torch._dynamo). A part that would fail is still met when the Trainer builds it for real.
_BUILT: set[tuple[str, tuple]] = set()


def check_parts(config: HifiganConfig) -> None:
    """Every part the config names built as training builds it, on the meta device (no weights, no memory): each
    name, argument and value checked (a one-line ConfigError), with the objective's rules. `hifigan train` calls it
    before the corpus is scanned (training.preflight); the Trainer builds the same parts for real."""
    key = (repr(config), tuple((name, id(part)) for registry in (GENERATORS, DISCRIMINATORS, GENERATOR_TERMS)
                               for name, part in registry.items()))
    if key in _BUILT:
        return
    with torch.device("meta"):
        build_generator(config)
        build_discriminators(config)
        build_generator_objective(config)
    _BUILT.add(key)
