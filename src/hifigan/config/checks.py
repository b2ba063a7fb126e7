"""Each config value against its declared type and its range, so that a typo ("256" or 256.0 for 256, a negative
size, a learning rate of 0, fmin above fmax) is one line at load that names the key, not a crash in training."""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

from hifigan.config.stft_geometry import check_framing, check_stft_geometry
from hifigan.config.values import integer, integers, number
from hifigan.errors import HifiganError

SIZES = ("batch_size", "segment_size", "upsample_initial_channel", "num_freq")  # integers >= 1
COUNTS = ("num_workers", "num_gpus", "disc_start_step")  # integers >= 0
LAYER_SIZES = ("upsample_rates", "upsample_kernel_sizes", "resblock_kernel_sizes")  # non-empty lists of ints >= 1
SEED_LIMIT = 2**63  # torch's generators take seeds below 2**64, numpy's none below 0; the sampler adds the epoch
STFT_KEYS = ("n_fft", "num_mels", "sampling_rate", "hop_size", "win_size", "fmin", "fmax")


def check_types(values: Any, prefix: str = "") -> None:
    """Raise ValueError naming the first field of a config dataclass whose value is not of its annotated type
    (an int is a float too; a bool is neither)."""
    hints = get_type_hints(type(values))
    for f in dataclasses.fields(values):
        value, hint = getattr(values, f.name), hints[f.name]
        if dataclasses.is_dataclass(hint) and isinstance(value, hint):
            check_types(value, f"{prefix}{f.name}.")
        elif not _matches(value, hint):
            raise ValueError(f"{prefix}{f.name} must be {_describe(hint)}, got {value!r}{_yaml_note(value)}")


def check_ranges(config: Any) -> None:
    """Raise ValueError naming the first value outside its range: sizes, counts, the seed, the optimiser's numbers,
    and the input and loss mels' STFT (hifigan.config.stft_geometry)."""
    for key in SIZES:
        integer(key, getattr(config, key), 1)
    for key in COUNTS:
        integer(key, getattr(config, key), 0)
    integer("dist_config.world_size", config.dist_config.world_size, 1)
    if integer("seed", config.seed, 0) >= SEED_LIMIT:
        raise ValueError(f"seed must be an integer below 2**63, got {config.seed}")
    for key in LAYER_SIZES:
        integers(key, getattr(config, key), 1)
    for i, dilations in enumerate(config.resblock_dilation_sizes):
        integers(f"resblock_dilation_sizes[{i}]", dilations, 1)
    number("learning_rate", config.learning_rate, 0, low_open=True)
    number("adam_b1", config.adam_b1, 0, 1, high_open=True)
    number("adam_b2", config.adam_b2, 0, 1, high_open=True)
    number("lr_decay", config.lr_decay, 0, 1, low_open=True)  # the per-epoch gamma of ExponentialLR
    number("mel_magnitude_eps", config.mel_magnitude_eps, 0)
    check_stft_geometry(*(config.mel_kwargs()[key] for key in STFT_KEYS))
    loss = config.mel_kwargs(for_loss=True)
    try:
        check_stft_geometry(*(loss[key] for key in STFT_KEYS))
    except ValueError as e:
        raise ValueError(f"the mel loss's STFT (fmax_for_loss, loss_args['mel']): {e}") from None
    check_front_end(config.mel_convention, config.mel_floor, config.mel_framing)
    check_front_end(loss.get("convention", "official"), loss.get("floor"), loss.get("framing", "official"),
                    "loss_args['mel']['{}']")
    if "magnitude_eps" in loss:
        number("loss_args['mel']['magnitude_eps']", loss["magnitude_eps"], 0)


def check_front_end(convention: Any, floor: Any, framing: Any, key: str = "mel_{}") -> None:
    """Raise ValueError naming the key (`key` formatted with convention, floor or framing) of a convention, floor
    or framing the front-end (hifigan.mel.MelSpectrogram) would refuse: the same checks, at load."""
    from hifigan.melconv.conventions import front_end_floor  # melconv imports the config: not at module level

    check_framing(framing, key.format("framing"))
    if not isinstance(convention, str):
        raise ValueError(f"{key.format('convention')} must be a string, got {convention!r}")
    try:
        front_end_floor(convention, floor, (key.format("convention"), key.format("floor")))
    except HifiganError as e:
        raise ValueError(e.problem) from None


def _matches(value: Any, hint: Any) -> bool:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint in (int, float):
        return not isinstance(value, bool) and isinstance(value, int if hint is int else int | float)
    if origin in (Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(k, args[0]) and _matches(v, args[1])
                                               for k, v in value.items())
    return isinstance(value, hint)


def _describe(hint: Any, plural: bool = False) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        named = [_describe(a, plural) for a in args if a is not type(None)]
        return " or ".join(named) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"{'lists' if plural else 'a list'} of {_describe(args[0], plural=True)}"
    if origin is dict:
        to = "" if args[1] is Any else f" of names to {_describe(args[1], plural=True)}"
        return f"{'mappings' if plural else 'a mapping'}{to}"
    noun = "mapping" if dataclasses.is_dataclass(hint) else {int: "integer", float: "number", str: "string"}[hint]
    return f"{noun}s" if plural else f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _yaml_note(value: Any) -> str:
    """PyYAML reads 1e-5 (no dot) as text: say so where a string would have been the number."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return " (text, not a number: in YAML write 1.0e-5 for 1e-5; in JSON leave out the quotes)"
    return ""
