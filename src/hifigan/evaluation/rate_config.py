"""The config whose rate and mel `hifigan evaluate` measures with: the one given, checked against the recordings'
rate, or else the preset at the recordings' rate (only where the presets there share their metric settings, as
v1-v3 do at 22050 Hz). The mel metrics are only comparable with the mel of the recordings' own config, so the
choice is never a guess: a recording at another rate than the given config is an error naming it (with
--resample, everything is measured at the config's rate), and an ambiguous rate asks for --config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hifigan.config import HifiganConfig
from hifigan.errors import AudioError, HifiganError, bad_inputs


def metric_settings(config: HifiganConfig) -> dict[str, Any]:
    """What the metrics take from a config: the loss mel (rate, n_fft, hop, window, bins, band) and its convention
    fields (mel_*); two configs that agree here give the same scores."""
    fields = {k: v for k, v in config.to_dict().items() if k.startswith("mel_")}
    return {**config.mel_kwargs(for_loss=True), **fields}


def presets_at(rate: int) -> dict[str, HifiganConfig]:
    """The presets (hifigan/configs) at `rate` Hz, by name in name order."""
    from hifigan.config import load_preset
    from hifigan.config_files import preset_names

    configs = {name: load_preset(name) for name in preset_names()}
    return {name: c for name, c in configs.items() if c.sampling_rate == rate}


def _presets_text(presets: dict[str, HifiganConfig]) -> str:
    return ", ".join(presets) if presets else "none"


def recording_rates(reference: Path) -> dict[Path, int]:
    """The sample rate of every recording in the folder (its audio files, paired by stem), from the headers; every
    recording whose header does not read is named, in one line."""
    from hifigan.audio import audio_info
    from hifigan.evaluation.pairing import audio_files

    rates, problems = {}, []
    paths = list(audio_files(Path(reference)).values())
    for path in paths:
        try:
            rates[path] = audio_info(path).samplerate
        except HifiganError as e:
            problems.append(e)
    if problems:
        raise bad_inputs(problems, len(paths))
    return rates


def metric_config(config: str | None, reference: Path, *, resample: bool = False) -> tuple[HifiganConfig, str]:
    """The config for scoring against the recordings in `reference`, and its name (as given, or the preset chosen).

    Given: every recording must be at its rate unless `resample`. Not given: the recordings must share one rate,
    and the presets at that rate one set of metric settings; anything else is a one-line error saying what to give
    (naming every recording at another rate, hifigan.errors.bad_inputs).
    """
    from hifigan.config import load_config

    rates = recording_rates(reference)
    if config is not None:
        cfg = load_config(config)
        problems: list[HifiganError] = [
            AudioError(path, f"sample rate is {rate} Hz, the config {config} is at {cfg.sampling_rate} Hz: give "
                       f"--config at {rate} Hz (presets: {_presets_text(presets_at(rate))}), or --resample to "
                       f"measure at {cfg.sampling_rate} Hz")
            for path, rate in rates.items() if rate != cfg.sampling_rate and not resample]
        if problems:
            raise bad_inputs(problems, len(rates))
        return cfg, str(config)
    first, rate = next(iter(rates.items()))
    problems = [HifiganError(path, f"sample rate is {other} Hz, {first.name} is at {rate} Hz: the recordings must "
                             "share one rate; give --config (and --resample to measure at its rate)")
                for path, other in rates.items() if other != rate]
    if problems:
        raise bad_inputs(problems, len(rates))
    presets = presets_at(rate)
    if not presets:
        raise HifiganError(reference, f"recordings at {rate} Hz, and no preset is at that rate: give --config, a "
                           f"config file at {rate} Hz (its mel is the one the mel metrics use)")
    if len({repr(metric_settings(c)) for c in presets.values()}) > 1:
        raise HifiganError(reference, f"recordings at {rate} Hz: give --config; the presets at that rate "
                           f"({_presets_text(presets)}) have different mels, and the mel metrics need one")
    name = next(iter(presets))
    return presets[name], name
