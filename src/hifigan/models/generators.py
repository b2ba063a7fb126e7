"""The generators by name: config.generator names one, built by its factory with config.generator_args (checked by
hifigan.models.named_parts). "hifigan" is the paper's generator (models.generator.Generator, from the official keys).

A generator is an nn.Module whose forward maps a log-mel [B, num_mels, frames] to audio [B, 1, frames x hop_size].
Optional methods: `layers()` (a models.layers.GeneratorLayers: the inference engines fold and tile from it; without
it, inference runs the module itself, eagerly), `receptive_field()` (a models.layers.ReceptiveField; without it or
layers(), it is measured once: models.receptive_field) and `remove_weight_norm()` (without it, every weight
parametrization is folded for inference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from hifigan.config import HIFIGAN_GENERATOR, HifiganConfig
from hifigan.errors import HifiganError
from hifigan.models.generator import Generator
from hifigan.models.layers import GeneratorLayers
from hifigan.models.named_parts import build_part
from hifigan.models.norms import drop_weight_norm_hooks, norm_parameter_count, norms_left_out, remove_parametrizations

GeneratorFactory = Callable[..., nn.Module]  # factory(config, **generator_args) -> module

GENERATORS: dict[str, GeneratorFactory] = {
    HIFIGAN_GENERATOR: Generator,  # takes no generator_args: its keys are the official ones
}


def register_generator(name: str, factory: GeneratorFactory) -> GeneratorFactory:
    """Make `factory(config, **arguments) -> module` (a class, for instance) available as config.generator = name;
    the keyword arguments it declares are what config.generator_args may set."""
    if name in GENERATORS and GENERATORS[name] is not factory:
        raise ValueError(f"a generator named {name!r} is registered already")
    GENERATORS[name] = factory
    return factory


def build_generator(config: HifiganConfig) -> nn.Module:
    """A fresh generator (training mode) of the kind config.generator names, with config.generator_args; the name
    and the arguments are checked here (a one-line ConfigError)."""
    return build_part(GENERATORS, "generator", config.generator, config, config.generator_args, "generator_args")


def meta_generator(config: HifiganConfig) -> tuple[nn.Module, int]:
    """The generator `config` builds, on the meta device (no weights, no memory) and with our weight norms left out,
    for its layers' geometry; and its parameter count as built for training (weight norm's g and v)."""
    with torch.device("meta"), norms_left_out() as left_out:
        generator = build_generator(config)
    return generator, sum(p.numel() for p in generator.parameters()) + norm_parameter_count(left_out)


def optional_method(generator: nn.Module, name: str) -> Callable[[], Any] | None:
    """The generator's own method `name` (one of the optional ones above), or None. A method of its class only: a
    submodule that happens to share the name (self.layers = nn.ModuleList(...)) is not one."""
    return getattr(generator, name) if callable(getattr(type(generator), name, None)) else None


def layer_description(generator: nn.Module) -> GeneratorLayers | None:
    """The generator's layers as data (what the engines run), or None when it does not describe them."""
    layers = optional_method(generator, "layers")
    return None if layers is None else layers()


def fold_norms(generator: nn.Module) -> nn.Module:
    """The generator with its weight norms folded into plain weights (its own `remove_weight_norm` when it has one):
    the same function, less work; picklable (torch's leftover weight-norm hooks removed)."""
    own = optional_method(generator, "remove_weight_norm")
    if own is not None:
        own()
        return drop_weight_norm_hooks(generator)  # what torch leaves behind (a picklable generator)
    return remove_parametrizations(generator)


def check_fits(generator: nn.Module, layers: GeneratorLayers, config: HifiganConfig) -> None:
    """That `config` describes a generator that describes its layers: its hop and mel bins. Else a HifiganError
    now, where a call would end in torch's channel error, or a batch or stream cut its audio at the config's hop."""
    bins = getattr(generator.get_submodule(layers.conv_pre.where), "in_channels", config.num_mels)
    if (layers.hop, bins) != (config.hop_size, config.num_mels):
        raise HifiganError(None, f"the config does not describe this generator: it takes {bins} mel bins at hop "
                                 f"{layers.hop}, the config has num_mels {config.num_mels} and hop_size "
                                 f"{config.hop_size}")
