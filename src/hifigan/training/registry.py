"""The training parts by name: the discriminators config.discriminators names and the generator loss terms
config.loss_weights weighs, each built with its config arguments (config.discriminator_args / config.loss_args by
part name).

A part's factory is `factory(config, **arguments) -> part`, built and checked by hifigan.models.named_parts (the
builder the generators share; the generator registry is hifigan.models.generators). A length-bound part declares
its floor beside it, `min_samples(config, **arguments) -> int`: the shortest training segment it takes, read with
the config's arguments over the factory's defaults (its signature holds them). Every floor of the parts a config uses
counts in the segment the 'too short' lines suggest (hifigan.data.shortest_segment), and a part is refused a segment
shorter than its own floor (a part without one has none).

A discriminator is an nn.Module whose `forward(y, y_hat)` takes real and generated audio [B, 1, T] and returns
(real scores, generated scores, real feature maps, generated feature maps), one entry per sub-discriminator, as
the official MPD and MSD do; `generator_side(y, y_hat)` -> (generated scores, real maps, generated maps) is used
in the generator step when the module has it (models.discriminators' ensembles run the real branch without a graph).
Registry order is the order of the discriminator optimizer's parameters and of the loss sums: MSD first, then MPD,
as the official `AdamW(chain(msd.parameters(), mpd.parameters()))`, so official do_* optimizer states map 1:1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch
from torch import nn

from hifigan.checkpoints.official import OFFICIAL_DISCRIMINATORS
from hifigan.checkpoints.run_files import RESERVED
from hifigan.config import HifiganConfig
from hifigan.data import shortest_segment
from hifigan.errors import ConfigError
from hifigan.models.generators import GENERATORS, build_generator
from hifigan.models.named_parts import (
    build_part,
    check_arguments,
    default_arguments,
    lookup,
    non_default_arguments,
)
from hifigan.training.built_in_parts import mpd_floor, mrd_floor, msd_floor, multi_period, multi_resolution, multi_scale
from hifigan.training.losses import (
    GeneratorObjective,
    GeneratorTerm,
    MelTerm,
    STFTTerm,
    adversarial_term,
    feature_matching_term,
    stft_floor,
)

# ---------------------------------------------------------------- discriminators

DiscriminatorFactory = Callable[..., nn.Module]  # factory(config, **discriminator_args[name]) -> module
PartFloor = Callable[..., int]  # min_samples(config, **arguments) -> the shortest training segment the part takes

DISCRIMINATORS: dict[str, DiscriminatorFactory] = {
    "msd": multi_scale,
    "mpd": multi_period,
    "mrd": multi_resolution,  # optional (UnivNet); not in official do_* files
}
DISCRIMINATOR_FLOORS: dict[str, PartFloor] = {"msd": msd_floor, "mpd": mpd_floor, "mrd": mrd_floor}


def register_discriminator(name: str, factory: DiscriminatorFactory,
                           min_samples: PartFloor | None = None) -> DiscriminatorFactory:
    """Make `factory(config, **arguments) -> module` available as a name in config.discriminators (after the
    built-in ones); the keyword arguments it declares are what discriminator_args[name] may set. `min_samples`: its
    floor, `min_samples(config, **arguments) -> int` (module docstring), if a segment can be too short for it."""
    if name in DISCRIMINATORS and DISCRIMINATORS[name] is not factory:
        raise ValueError(f"a discriminator named {name!r} is registered already")
    if name in RESERVED:
        raise ValueError(f"{name!r} is a checkpoint key of its own; choose another discriminator name")
    DISCRIMINATORS[name] = factory
    if min_samples is not None:
        DISCRIMINATOR_FLOORS[name] = min_samples
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
    return {name: _built(DISCRIMINATORS, DISCRIMINATOR_FLOORS, "discriminator", name, config,
                         config.discriminator_args.get(name, {}), f"discriminator_args[{name!r}]")
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
TERM_FLOORS: dict[str, PartFloor] = {"stft": stft_floor}
ADVERSARIAL_TERMS = ("adv", "fm")  # the built-in terms that apply only with the discriminators' outputs


def register_generator_term(name: str, term: GeneratorTerm | type,
                            min_samples: PartFloor | None = None) -> GeneratorTerm | type:
    """Make `term` (or a class of terms, as in GENERATOR_TERMS) available as config.loss_weights[name] (off until
    the config gives it a weight > 0); `min_samples`: its floor, as register_discriminator's."""
    if name in GENERATOR_TERMS and GENERATOR_TERMS[name] is not term:
        raise ValueError(f"a generator loss term named {name!r} is registered already")
    GENERATOR_TERMS[name] = term
    if min_samples is not None:
        TERM_FLOORS[name] = min_samples
    return term


def _term_factories() -> dict[str, Callable[..., GeneratorTerm]]:
    """The registered loss terms' factories by name (_term_factory of each)."""
    return {name: _term_factory(entry) for name, entry in GENERATOR_TERMS.items()}


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
    factories = _term_factories()
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
    terms = {name: (_built(factories, TERM_FLOORS, "loss term", name, config, config.loss_args.get(name, {}),
                           f"loss_args[{name!r}]"), weight)
             for name in factories if (weight := config.loss_weights.get(name, 0.0)) > 0}
    if not terms:
        raise ConfigError(None, "loss_weights gives no term a weight > 0")
    if config.disc_start_step > 0 and set(terms) <= set(ADVERSARIAL_TERMS):
        raise ConfigError(None, f"loss_weights weighs only {', '.join(terms)}, which need the discriminators' "
                                f"outputs: the generator-only warm-up (disc_start_step {config.disc_start_step}) "
                                f"would have no loss; give mel a weight > 0, or set disc_start_step to 0")
    return GeneratorObjective(terms)


# ---------------------------------------------------------------- the parts' floors


def _floors_used(config: HifiganConfig) -> Iterator[tuple[Callable[..., Any], PartFloor, Mapping[str, Any]]]:
    """(factory, floor, config arguments) of each registered part with a floor that the config uses: its
    discriminators, and its loss terms weighed > 0."""
    terms = _term_factories()
    used = [(DISCRIMINATORS, DISCRIMINATOR_FLOORS, name, config.discriminator_args) for name in config.discriminators]
    used += [(terms, TERM_FLOORS, name, config.loss_args) for name, weight in config.loss_weights.items() if weight > 0]
    for factories, floors, name, arguments in used:
        if name in factories and name in floors:
            yield factories[name], floors[name], arguments.get(name, {})


def _read_floor(factory: Callable[..., Any], floor: PartFloor, config: HifiganConfig,
                arguments: Mapping[str, Any]) -> int | None:
    """The part's floor with the config's arguments over its factory's defaults; None where they do not read (the
    part's build refuses them in its own line)."""
    try:
        return floor(config, **{**default_arguments(factory), **arguments})
    except (TypeError, ValueError):
        return None


def part_floors(config: HifiganConfig) -> list[int]:
    """What each length-bound part the config uses needs of a training segment, by the floor declared beside it."""
    return [need for factory, floor, arguments in _floors_used(config)
            if (need := _read_floor(factory, floor, config, arguments)) is not None]


def segment_advice(config: HifiganConfig) -> str:
    """The end of every 'segment too short' line, for this config's parts: the length to give instead."""
    return shortest_segment.segment_advice(config, part_floors(config))


def check_segment_size(config: HifiganConfig) -> None:
    """The run's check of its segment against the mel front-end (`hifigan train`'s preflight, a Trainer's):
    data.shortest_segment.check_segment_size, its refusal suggesting the length every part the config uses trains
    with."""
    shortest_segment.check_segment_size(config, part_floors(config))


def _built(registry: Mapping[str, Callable[..., Any]], floors: Mapping[str, PartFloor], kind: str, name: str,
           config: HifiganConfig, arguments: Mapping[str, Any], where: str) -> Any:
    """build_part, a part's refusal of the segment ended with the length that trains; a part built for a segment
    shorter than its declared floor (a factory that does not check it) refused in that line too."""
    part = build_part(registry, kind, name, config, arguments, where, lambda: segment_advice(config))
    need = _read_floor(registry[name], floors[name], config, arguments) if name in floors else None
    if need is not None and config.segment_size < need:
        raise ConfigError(None, f"{where}: segment_size {config.segment_size} is too short for the {kind} {name!r} "
                                f"(needs >= {need} samples): {segment_advice(config)}")
    return part


# The configs whose parts built, with the registries (and floors) they were built from: `train` checks before its
# scan and its Trainer checks again (a Trainer from Python checks alone); a meta build costs ~0.1 s, its first ~1 s
# (torch's meta kernels import torch._dynamo). A part that would fail is still met when the Trainer builds it for real.
_BUILT: set[tuple[str, tuple]] = set()


def check_parts(config: HifiganConfig) -> None:
    """Every part the config names built as training builds it, on the meta device (no weights, no memory): each
    name, argument and value checked (a one-line ConfigError), with the objective's rules. `hifigan train` calls it
    before the corpus is scanned (training.preflight); the Trainer builds the same parts for real."""
    registries = (GENERATORS, DISCRIMINATORS, GENERATOR_TERMS, DISCRIMINATOR_FLOORS, TERM_FLOORS)
    key = (repr(config), tuple((name, id(part)) for registry in registries for name, part in registry.items()))
    if key in _BUILT:
        return
    with torch.device("meta"):
        build_generator(config)
        build_discriminators(config)
        build_generator_objective(config)
    _BUILT.add(key)
