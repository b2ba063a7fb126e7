"""A config laid over a model's own (a checkpoint's, a pretrained model's): the keys a file sets replace the model's,
and none may change the model (its weights or its input mel); a run that starts from the weights (--init-from) may
change what their shapes do not fix (the input mel's signal settings, the strides and dilations), which start_changes
words."""

from __future__ import annotations

import os
from typing import Any

from hifigan.config import LEGACY_WEIGHT_KEYS, HifiganConfig, config_from_dict
from hifigan.config.files import read_config_file
from hifigan.errors import CheckpointError
from hifigan.melconv.conventions import front_end_floor
from hifigan.messages.option_names import setting, wanted

ConfigSource = str | os.PathLike | HifiganConfig

# Keys that decide the generator's architecture: a --config that differs in one is a mistake where the model is used
# as it is.
ARCHITECTURE_KEYS = (
    "generator", "generator_args", "resblock", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel",
    "resblock_kernel_sizes", "resblock_dilation_sizes", "num_mels",
)
# Those the weights' shapes do not depend on (a transposed convolution's stride, a convolution's dilation): weights
# trained with others fit where the kernels fit the strides (HifiganConfig's checks) and the dilations are as many
# (the loader's), so a run may start from them.
LAYOUT_KEYS = ("upsample_rates", "resblock_dilation_sizes")
# Keys that decide the generator's weights: a --config that differs in one is a mistake, whatever the command.
WEIGHT_KEYS = tuple(key for key in ARCHITECTURE_KEYS if key not in LAYOUT_KEYS)
# Keys that decide the mel the generator takes (its signal settings): a mistake where the model is used as it is,
# a new mel to adapt to where a run starts from its weights.
SIGNAL_KEYS = (
    "n_fft", "hop_size", "win_size", "sampling_rate", "fmin", "fmax", "mel_convention", "mel_floor", "mel_framing",
    "mel_magnitude_eps", "mel_stats",
)
MODEL_KEYS = ARCHITECTURE_KEYS + SIGNAL_KEYS


def model_difference(stored: HifiganConfig, given: HifiganConfig, keys: tuple[str, ...] = MODEL_KEYS) -> str | None:
    """The first of `keys` in which two configs differ; None when they describe the same model."""
    return next((key for key in keys if _model_value(stored, key) != _model_value(given, key)), None)


def start_changes(own: HifiganConfig, run: HifiganConfig) -> dict[str, str]:
    """The LAYOUT_KEYS and SIGNAL_KEYS in which a run's config differs from the model's own, each as `KEY X (the
    model's Y)` (statistics by where they come from); none where the run takes the model's mel and layout. A null that
    follows another key (fmax at another rate, mel_floor of another convention) is said by that key."""
    return {key: _conflict(run, own, key, "the model's ") for key in LAYOUT_KEYS + SIGNAL_KEYS
            if _model_value(own, key) != _model_value(run, key) and getattr(own, key) != getattr(run, key)}


def _model_value(config: HifiganConfig, key: str) -> Any:
    """A model key's value as the model uses it: `fmax` null as half the rate and `mel_floor` null as its
    convention's floor (the same filterbank and floor as those written out), `mel_stats` as the per-bin values (a
    statistics file read, as training inlines it), so that the file a checkpoint's statistics came from names the
    same model."""
    value = getattr(config, key)
    if key == "fmax" and value is None:
        return config.sampling_rate / 2
    if key == "mel_floor" and value is None:
        return front_end_floor(config.mel_convention, None)
    if key != "mel_stats" or value is None:
        return value
    from hifigan.melconv.stats import inline_stats, model_stats

    return inline_stats(model_stats(value, config.num_mels, config.mel_convention))


def _conflict(merged: HifiganConfig, own: HifiganConfig, key: str, change: str | None = None) -> str:
    """`KEY is X, the model has Y`, or with `change` (`the model's `) `KEY X (the model's Y)`; statistics by where
    they come from, not by their numbers."""
    given, held = getattr(merged, key), getattr(own, key)
    other = ""
    if key == "mel_stats":
        given, held = _stats(given), _stats(held)
        other = "other " if getattr(merged, key) is not None and getattr(own, key) is not None else ""
    else:
        given, held = repr(given), repr(held)
    if change is not None:
        return f"{key} {given} ({change}{other}{held})"
    return f"{key} is {given}, the model has {other}{held}"


def _stats(value: Any) -> str:
    return "per-bin statistics" if isinstance(value, dict) else repr(value)


def laid_over(own: HifiganConfig, given: ConfigSource) -> HifiganConfig:
    """`given` laid over `own`: the keys a file sets replace own's, the rest stay own's; a preset name or a
    HifiganConfig sets every key."""
    if isinstance(given, HifiganConfig):
        return given
    path, values, preset = read_config_file(given)  # read once: a preset's keys are all of them
    base = {} if preset else own.to_dict()
    legacy = [LEGACY_WEIGHT_KEYS[k] for k in values if k in LEGACY_WEIGHT_KEYS]
    if legacy and "loss_weights" not in values:  # lambda_mel: 45 changes that weight, the others stay own's
        base["loss_weights"] = {k: v for k, v in (base.get("loss_weights") or {}).items() if k not in legacy}
    return config_from_dict({**base, **values}, path)


def config_over_model(own: HifiganConfig, given: ConfigSource | None, source: str | os.PathLike | None,
                      whose: str, cli: bool, keys: tuple[str, ...] = MODEL_KEYS) -> HifiganConfig:
    """A model's own config with a --config laid over it: the keys the file sets (a preset name or a HifiganConfig
    sets every key) replace the model's, the rest stay the model's own. The result must describe the same model in
    `keys` (model_difference; WEIGHT_KEYS for a run that starts from the weights): else one line, `config='ft.yaml'
    conflicts with the {whose}: KEY is X, the model has Y` (with `cli`, the command's `--config conflicts ...`)."""
    if given is None:
        return own
    merged = laid_over(own, given)
    key = model_difference(own, merged, keys)
    if key is not None:
        raise CheckpointError(source, f"{_given_config(given, cli)} conflicts with the {whose}: "
                                      f"{_conflict(merged, own, key)}")
    return merged


def _given_config(given: ConfigSource, cli: bool) -> str:
    """How the caller gave a config: `--config` on the command line, else the argument (`config='v1'`; a
    HifiganConfig object as `config=...`)."""
    if cli or isinstance(given, HifiganConfig):
        return wanted("config", cli=cli)
    return setting("config", given, cli)
