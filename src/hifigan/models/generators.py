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
from hifigan.models.norms import (
    drop_weight_norm_hooks,
    norm_parameter_count,
    norms_left_out,
    remove_parametrizations,
    weight_norm,
)

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
    generator, left_out = _on_meta(config)
    return generator, sum(p.numel() for p in generator.parameters()) + norm_parameter_count(left_out)


def empty_generator(config: HifiganConfig) -> nn.Module:
    """build_generator's generator, its tensors allocated (zeros) but not initialised, for a state dict that names
    every one to be loaded into: the random initialisation a load overwrites (V1: 14 M weights) is skipped, and
    torch's RNG is not drawn from. A generator holding a tensor its state dict does not name (a load would leave it
    unset), or one the meta device cannot build, is built by build_generator, initialised."""
    try:
        generator, left_out = _on_meta(config)
    except HifiganError:
        raise
    except Exception:  # a factory that needs values as it builds (.item(), numpy): built as it always was
        return build_generator(config)
    if _holds_unnamed_tensors(generator):
        return build_generator(config)
    _allocate(generator, torch.get_default_device())
    for module in left_out:  # the weight norms build_generator adds, on real tensors now (their values not yet set)
        weight_norm(module)
    return generator


def _on_meta(config: HifiganConfig) -> tuple[nn.Module, list[nn.Module]]:
    """The generator `config` builds, on the meta device with our weight norms left out (norms_left_out: torch's norm
    is slow to start there), and the modules left without theirs."""
    with torch.device("meta"), norms_left_out() as left_out:
        return build_generator(config), left_out


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


def _holds_unnamed_tensors(generator: nn.Module) -> bool:
    """Whether `generator` holds a tensor that its state dict does not name: a non-persistent buffer, a tensor
    attribute (or one in a list, tuple or dict attribute), a parameter of a Parameter subclass (a lazy module's)."""
    held = {name for name, _ in generator.named_parameters(remove_duplicate=False)}
    held |= {name for name, _ in generator.named_buffers(remove_duplicate=False)}
    if held != set(generator.state_dict()) or any(type(p) is not nn.Parameter for p in generator.parameters()):
        return True
    attributes = (value for module in generator.modules() for key, value in vars(module).items()
                  if key not in ("_parameters", "_buffers"))  # those two hold the named ones
    return any(_has_tensor(value) for value in attributes)


def _has_tensor(value: object) -> bool:
    """A tensor, or a list, tuple or dict holding one."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else [value]
    return any(isinstance(item, torch.Tensor) for item in items)


def _allocate(generator: nn.Module, device: torch.device) -> None:
    """Each parameter and buffer of `generator` (built on the meta device) replaced by a zero-filled tensor of its
    shape, strides and dtype on `device` (its pages written once here; memory left unwritten was faulted in twice,
    read by the weight norm, then written by the load: slower); one shared by several modules stays shared."""
    made: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # id -> (meta tensor, kept alive: its id stays its own)
    for module in generator.modules():
        for name, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]:
            if id(tensor) not in made:
                zeros = torch.empty_strided(tensor.shape, tensor.stride(), dtype=tensor.dtype, device=device).zero_()
                made[id(tensor)] = tensor, (nn.Parameter(zeros, tensor.requires_grad)
                                            if isinstance(tensor, nn.Parameter) else zeros)
            setattr(module, name, made[id(tensor)][1])
