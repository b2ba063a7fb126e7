"""Parts by name: a registry maps a name to `factory(config, **arguments) -> part`, and building a part checks its
name and the arguments the config gives it. The one builder of the generators (hifigan.models.generators), the
discriminators and the generator loss terms (hifigan.training.registry).

The keyword arguments a factory declares are the ones a config may give (a factory with **kwargs checks its own).
An unknown name, an unknown argument or a value the part refuses (a ValueError from the factory) is a one-line
ConfigError that names it; a part's refusal of the training segment (SegmentTooShort) ends with the length that
trains, which its builder knows (every part's floor counts, not the part's alone).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from hifigan.config import HifiganConfig
from hifigan.errors import ConfigError
from hifigan.runtime.float32 import float32_default

PartFactory = Callable[..., Any]


class SegmentTooShort(ValueError):
    """A part's refusal of config.segment_size, saying what the part needs; build_part ends its line with `advice`."""


def lookup(registry: Mapping[str, PartFactory], kind: str, name: str, where: str = "") -> PartFactory:
    """The factory registered as `name`; a ConfigError listing the known names otherwise (`where`: " in KEY")."""
    if name not in registry:
        raise ConfigError(None, f"unknown {kind} {name!r}{where} (known: {', '.join(registry)})")
    return registry[name]


def accepted_arguments(factory: PartFactory) -> list[str] | None:
    """The argument names `factory(config, **arguments)` declares after the config; None when it takes any."""
    parameters = list(inspect.signature(factory).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def default_arguments(factory: PartFactory) -> dict[str, Any]:
    """The declared arguments that have defaults, with them (the recipe a part follows when the config is silent)."""
    parameters = list(inspect.signature(factory).parameters.values())[1:]
    return {p.name: p.default for p in parameters if p.default is not p.empty}


def check_arguments(factory: PartFactory, where: str, arguments: Mapping[str, Any]) -> None:
    """Every argument the config gives the part (at config key `where`) must be one its factory declares."""
    known = accepted_arguments(factory)
    if known is None:
        return
    for key in arguments:
        if key not in known:
            raise ConfigError(None, f"{where}: unknown argument {key!r} (known: {', '.join(known) or 'none'})")


def build_part(registry: Mapping[str, PartFactory], kind: str, name: str, config: HifiganConfig,
               arguments: Mapping[str, Any], where: str, advice: Callable[[], str] | None = None) -> Any:
    """The part `name` built by its factory with `arguments` (those at config key `where`), checked; `advice()`: the
    end of a SegmentTooShort's line. Built in float32 whatever torch's default dtype: checkpoints, mels and the
    training step are float32, and weights made float64 by a caller's torch.set_default_dtype would not meet them
    (use .double() for a float64 part)."""
    factory = lookup(registry, kind, name)
    check_arguments(factory, where, arguments)
    try:
        with float32_default():
            return factory(config, **arguments)
    except ValueError as e:
        end = f": {advice()}" if advice is not None and isinstance(e, SegmentTooShort) else ""
        raise ConfigError(None, f"{where}: {e}{end}") from None


def non_default_arguments(factory: PartFactory, arguments: Mapping[str, Any]) -> list[str]:
    """The given arguments whose value differs from the factory's default (lists and tuples compare alike)."""
    defaults = default_arguments(factory)
    return [key for key, value in arguments.items() if key not in defaults or _plain(value) != _plain(defaults[key])]


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, list | tuple) else value
