"""The config whose rate and mel `hifigan evaluate` measures with: the one given, checked against the recordings'
rate, or else the preset at the recordings' rate (only where the presets there share their metric settings, as
v1-v3 do at 22050 Hz). The mel metrics are only comparable with the mel of the recordings' own config, so the
choice is never a guess: a recording at another rate than the given config is an error naming it (with
--resample, everything is measured at the config's rate), and an ambiguous rate asks for --config (a Python
caller's hints name its arguments, `config=...`, `resample=True`: hifigan.messages.option_names).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hifigan.config import HifiganConfig
from hifigan.errors import AudioError, HifiganError
from hifigan.messages.option_names import switched_on, wanted

if TYPE_CHECKING:
    from hifigan.evaluation.pairing import Folder


def metric_settings(config: HifiganConfig) -> dict[str, Any]:
    """What the metrics take from a config: the loss mel (rate, n_fft, hop, window, bins, band) and its convention
    fields (mel_*); two configs that agree here give the same scores."""
    fields = {k: v for k, v in config.to_dict().items() if k.startswith("mel_")}
    return {**config.mel_kwargs(for_loss=True), **fields}


def presets_at(rate: int) -> dict[str, HifiganConfig]:
    """The presets (hifigan/configs) at `rate` Hz, by name in name order."""
    from hifigan.config import load_preset
    from hifigan.config.files import preset_names

    configs = {name: load_preset(name) for name in preset_names()}
    return {name: c for name, c in configs.items() if c.sampling_rate == rate}


def _presets_text(presets: dict[str, HifiganConfig]) -> str:
    return ", ".join(presets) if presets else "none"


def recording_rates(reference: Folder) -> tuple[dict[Path, tuple[int, int]], list[HifiganError]]:
    """The sample rate and channel count of every recording in the folder (each audio file, one sharing its stem
    too) whose header reads, from the headers, and a problem for each one whose header does not (named with the
    others)."""
    from hifigan.audio import audio_info

    formats, problems = {}, []
    for path in (path for paths in reference.files.values() for path in paths):
        try:
            info = audio_info(path)
        except HifiganError as e:
            problems.append(e)
            continue
        formats[path] = (info.samplerate, info.channels)
    return formats, problems


@dataclass
class MetricConfig:
    """The config the metrics use and its name (None: none fits, a problem says why), the rate every file is read
    at (the config's, else the recordings'; None: no recording's header reads), and every problem of the recordings
    met in choosing them (a header, another rate, no preset at the rate), for the caller to name with the others."""

    config: HifiganConfig | None
    name: str | None
    rate: int | None
    problems: list[HifiganError]


def metric_config(config: str | HifiganConfig | None, reference: Folder, *, resample: bool = False,
                  mix_to_mono: bool = False, model: str | None = None, cli: bool) -> MetricConfig:
    """The config for scoring against the recordings in `reference` (as given, or the preset chosen) and every
    recording's problem found on the way (a header that does not read, another rate; one also in stereo says so
    too); none is raised. `model`: the model `config` is of, in words ("checkpoint runs/x/ckpt_10.pt"), its name
    in the report and the errors (the audio was vocoded with it).

    Given: every recording must be at its rate unless `resample`. Not given: the recordings must share one rate
    (the commonest is the one chosen; each other is a problem), and the presets at that rate one set of metric
    settings, else a problem saying what to give. No header that reads gives no rate to choose by: their problems
    (or the folder's, without audio) say why, and nothing is chosen. A hint names the arguments (`config=...`,
    `resample=True`), or with `cli` the command's options (hifigan.messages.option_names).
    """
    from hifigan.audio import format_problems
    from hifigan.config import load_config

    formats, problems = recording_rates(reference)
    rates = {path: rate for path, (rate, _) in formats.items()}
    cfg: HifiganConfig | None
    if config is not None:
        cfg, name = load_config(config), model or str(config)
        rate: int | None = cfg.sampling_rate
        off = {path: (f"sample rate is {other} Hz, {model or f'the config {config}'} is at {rate} Hz: "
                      f"{_other_model(other, model, cli)}, or {switched_on('resample', cli)} to measure at {rate} Hz")
               for path, other in rates.items() if other != rate and not resample}
    elif not rates:
        return MetricConfig(None, None, None, problems)
    else:
        rate = Counter(rates.values()).most_common(1)[0][0]  # ties: the first file's
        first = next(path for path, r in rates.items() if r == rate)
        off = {path: (f"sample rate is {other} Hz, {first.name} is at {rate} Hz: the recordings must share one "
                      f"rate; give {wanted('config', cli=cli)} (and {switched_on('resample', cli)} to measure at its "
                      "rate)")
               for path, other in rates.items() if other != rate}
        try:
            cfg, name = _preset_at(rate, reference.path, cli)
        except HifiganError as e:  # the files are still read at their rate, and checked for all but their lengths
            cfg, name = None, None
            problems.append(e)
    for path, problem in off.items():  # the checks of the samples skip these: the stereo ones are named now
        also = format_problems(formats[path][1], 0, None, mix_to_mono=mix_to_mono, cli=cli)
        problems.append(AudioError(path, "; ".join([problem, *also])))
    return MetricConfig(cfg, name, rate, problems)


def _other_model(rate: int, model: str | None, cli: bool) -> str:
    """What to give for recordings at `rate` Hz where the config or `model` given is at another."""
    if model is not None:
        return f"give the model at {rate} Hz that the audio was vocoded with"
    return f"give {wanted('config', cli=cli)} at {rate} Hz (presets: {_presets_text(presets_at(rate))})"


def _preset_at(rate: int, reference: Path, cli: bool) -> tuple[HifiganConfig, str]:
    """The preset for recordings at `rate` Hz, where the presets there share one set of metric settings."""
    presets = presets_at(rate)
    model = "the model the audio was vocoded with (-c CKPT, --pretrained NAME) or " if cli else ""
    if not presets:
        raise HifiganError(reference, f"recordings at {rate} Hz, and no preset is at that rate: give {model}"
                           f"{wanted('config', cli=cli)}, a config file at {rate} Hz (its mel is the one the mel "
                           "metrics use)")
    if len({repr(metric_settings(c)) for c in presets.values()}) > 1:
        raise HifiganError(reference, f"recordings at {rate} Hz: give {model}{wanted('config', cli=cli)}; the "
                           f"presets at that rate ({_presets_text(presets)}) have different mels, and the mel "
                           "metrics need one")
    name = next(iter(presets))
    return presets[name], name
