"""The config whose rate and mel `hifigan evaluate` measures with: the one given, checked against the recordings'
rate, or else the preset at the recordings' rate (only where the presets there share their metric settings, as
v1-v3 do at 22050 Hz). The mel metrics are only comparable with the mel of the recordings' own config, so the
choice is never a guess: a recording at another rate than the given config is an error naming it (with
--resample, everything is measured at the config's rate), and an ambiguous rate asks for --config.
"""

from __future__ import annotations

from collections import Counter
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


def recording_rates(reference: Path) -> tuple[dict[Path, tuple[int, int]], list[HifiganError]]:
    """The sample rate and channel count of every recording in the folder (its audio files, paired by stem) whose
    header reads, from the headers, and a problem for each one whose header does not (named with the others)."""
    from hifigan.audio import audio_info
    from hifigan.evaluation.pairing import audio_files

    formats, problems = {}, []
    for path in audio_files(Path(reference)).values():
        try:
            info = audio_info(path)
        except HifiganError as e:
            problems.append(e)
            continue
        formats[path] = (info.samplerate, info.channels)
    return formats, problems


def metric_config(config: str | None, reference: Path, *, resample: bool = False, mix_to_mono: bool = False
                  ) -> tuple[HifiganConfig, str, list[HifiganError]]:
    """The config for scoring against the recordings in `reference`, its name (as given, or the preset chosen), and
    every recording's problem found on the way (a header that does not read, another rate; one also in stereo
    says so too), for the caller to name with the problems of the other inputs.

    Given: every recording must be at its rate unless `resample`. Not given: the recordings must share one rate
    (the commonest is the one chosen; each other is a problem), and the presets at that rate one set of metric
    settings, else a one-line error saying what to give.
    """
    from hifigan.audio import format_problems
    from hifigan.config import load_config

    formats, problems = recording_rates(reference)
    if config is None and not formats:  # no header read: no rate to choose a config by
        raise bad_inputs(problems, len(problems))
    rates = {path: rate for path, (rate, _) in formats.items()}
    if config is not None:
        cfg, name = load_config(config), str(config)
        off = {path: (f"sample rate is {rate} Hz, the config {config} is at {cfg.sampling_rate} Hz: give --config at "
                      f"{rate} Hz (presets: {_presets_text(presets_at(rate))}), or --resample to measure at "
                      f"{cfg.sampling_rate} Hz")
               for path, rate in rates.items() if rate != cfg.sampling_rate and not resample}
    else:
        rate = Counter(rates.values()).most_common(1)[0][0]  # ties: the first file's
        first = next(path for path, r in rates.items() if r == rate)
        off = {path: (f"sample rate is {other} Hz, {first.name} is at {rate} Hz: the recordings must share one "
                      "rate; give --config (and --resample to measure at its rate)")
               for path, other in rates.items() if other != rate}
        cfg, name = _preset_at(rate, reference)
    for path, problem in off.items():  # the checks of the samples skip these: the stereo ones are named now
        also = format_problems(formats[path][1], 0, None, mix_to_mono=mix_to_mono)
        problems.append(AudioError(path, "; ".join([problem, *also])))
    return cfg, name, problems


def _preset_at(rate: int, reference: Path) -> tuple[HifiganConfig, str]:
    """The preset for recordings at `rate` Hz, where the presets there share one set of metric settings."""
    presets = presets_at(rate)
    if not presets:
        raise HifiganError(reference, f"recordings at {rate} Hz, and no preset is at that rate: give --config, a "
                           f"config file at {rate} Hz (its mel is the one the mel metrics use)")
    if len({repr(metric_settings(c)) for c in presets.values()}) > 1:
        raise HifiganError(reference, f"recordings at {rate} Hz: give --config; the presets at that rate "
                           f"({_presets_text(presets)}) have different mels, and the mel metrics need one")
    name = next(iter(presets))
    return presets[name], name
