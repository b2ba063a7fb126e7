"""The set of objective quality metrics: their names, units and directions, and `compute_metrics`, which runs
any subset of them on one (reference, generated) pair after checking lengths (and, optionally, a small alignment).

Every metric (spectral, perceptual, pitch) takes a pair of mono float signals at the same rate and returns a
float; an undefined value (PESQ finds no speech, no frame is voiced in both, ...) is NaN, never an exception: an
`Undefined` (hifigan.evaluation.undefined), which says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.evaluation.pairing import align, length_tolerance, match_lengths, warn_lags_at_limit
from hifigan.evaluation.perceptual import (
    SNR_CAP_DB,
    STOI_RATE,
    estoi,
    pesq_band,
    pesq_mos,
    pesq_range,
    pesq_title,
    snr,
    stoi,
)
from hifigan.evaluation.pitch import (
    DEFAULT_PITCH,
    PitchSettings,
    PitchTrack,
    ReferenceTracks,
    f0_rmse_cents,
    periodicity_rmse,
    pitch_track,
    vuv_f1,
)
from hifigan.evaluation.signals import Signal, mono_signal
from hifigan.evaluation.spectral import (
    log_spectral_distance,
    mel_cepstral_distortion,
    mel_l1,
    mrstft_distance,
)
from hifigan.evaluation.undefined import as_defined
from hifigan.messages.plural import count
from hifigan.models.stft import PWG_RESOLUTIONS
from hifigan.runtime.extras import optional_import


@dataclass(frozen=True)
class MetricInfo:
    """How to read one metric: its unit, which direction is better and the [lowest, highest] value it can take
    (confidence intervals are clipped to it); the optional package (an extra's, hifigan.runtime.extras) that computes
    it, if any; and the shortest signal it accepts at a config (`needs`)."""

    unit: str
    higher_is_better: bool
    title: str
    bounds: tuple[float, float]
    package: str | None = None
    needs: Callable[[HifiganConfig], int] = lambda config: 1


def _one_frame(config: HifiganConfig) -> int:  # a whole STFT frame of the config (reflect padding needs > n_fft/2)
    return config.n_fft


def _one_stoi_frame(config: HifiganConfig) -> int:  # pystoi's 25.6 ms frame (256 samples at its 10 kHz); fewer fail
    return math.ceil(256 * config.sampling_rate / STOI_RATE)


def _largest_mrstft_frame(config: HifiganConfig) -> int:  # the largest MR-STFT frame, at any rate
    return max(n_fft for n_fft, _, _ in PWG_RESOLUTIONS)


DISTANCE = (0.0, math.inf)  # a norm or mean of magnitudes: 0 when identical
FRACTION = (0.0, 1.0)  # an F1 score; an RMS difference of probabilities
# pystoi's STOI is a mean of correlation coefficients, its ESTOI a mean of inner products of unit vectors:
# both can be negative (uncorrelated envelopes), neither passes 1
CORRELATION = (-1.0, 1.0)

# Order = table/plot order. Names are the keys of `compute_metrics` and of the JSON report. `needs` (default 1
# sample): SNR and PESQ take any length (PESQ is NaN when too short for it), pYIN pads its centred frames.
METRICS: dict[str, MetricInfo] = {
    "mel_l1": MetricInfo("", False, "mel L1", DISTANCE, needs=_one_frame),
    "mrstft": MetricInfo("", False, "MR-STFT", DISTANCE, needs=_largest_mrstft_frame),
    "mcd": MetricInfo("dB", False, "MCD", DISTANCE, needs=_one_frame),
    "lsd": MetricInfo("dB", False, "LSD", DISTANCE, needs=_one_frame),
    "snr": MetricInfo("dB", True, "SNR", (-math.inf, SNR_CAP_DB)),
    # wide- or narrow-band by the rate, with its own top: see metric_title and metric_bounds
    "pesq": MetricInfo("", True, "PESQ", pesq_range(), "pesq"),
    "stoi": MetricInfo("", True, "STOI", CORRELATION, "pystoi", needs=_one_stoi_frame),
    "estoi": MetricInfo("", True, "ESTOI", CORRELATION, "pystoi", needs=_one_stoi_frame),
    "f0_rmse_cents": MetricInfo("cents", False, "F0 RMSE", DISTANCE),
    "vuv_f1": MetricInfo("", True, "V/UV F1", FRACTION),
    "periodicity_rmse": MetricInfo("", False, "periodicity RMSE", FRACTION),
}


def metric_title(name: str, sampling_rate: int | None = None, unit: bool = True) -> str:
    """How tables and figures name a metric (with its unit unless `unit` is False); at a known rate PESQ
    names the band it is measured in there ("PESQ (wb)", "PESQ (nb)")."""
    info = METRICS[name]
    title = pesq_title(sampling_rate) if name == "pesq" and sampling_rate is not None else info.title
    return f"{title} ({info.unit})" if unit and info.unit else title


def metric_bounds(name: str, sampling_rate: int | None = None) -> tuple[float, float]:
    """The [lowest, highest] value of a metric; at a known rate PESQ's are those of the band measured there."""
    return pesq_range(sampling_rate) if name == "pesq" and sampling_rate is not None else METRICS[name].bounds


def metric_names(metrics: Iterable[str] | None) -> list[str]:
    """The requested metric names (all when None) in METRICS order; an unknown name is an error."""
    requested = set(METRICS) if metrics is None else set(metrics)
    unknown = sorted(requested - set(METRICS))
    if unknown:
        raise HifiganError(None, f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}")
    return [m for m in METRICS if m in requested]


def other_rates(sampling_rate: int, metrics: Iterable[str] | None = None) -> str | None:
    """The metrics asked for (None: all) that are measured at another rate than `sampling_rate`, where their
    standards define them ("PESQ (wb) at 16000 Hz, STOI and ESTOI at 10000 Hz"); None when there are none."""
    band = pesq_band(sampling_rate)
    rates = {"pesq": band[0] if band is not None else sampling_rate, "stoi": STOI_RATE, "estoi": STOI_RATE}
    titles: dict[int, list[str]] = {}
    for name in metric_names(metrics):
        if rates.get(name, sampling_rate) != sampling_rate:
            titles.setdefault(rates[name], []).append(metric_title(name, sampling_rate, unit=False))
    return ", ".join(f"{' and '.join(named)} at {rate} Hz" for rate, named in titles.items()) or None


def measured_lines(sampling_rate: int, mel_of: str, metrics: Iterable[str] | None = None) -> list[str]:
    """The lines a table of scores starts with: the rate and the mel measured with (`mel_of`: "config v1"), and the
    metrics asked for (None: all) that are measured at another rate (`other_rates`), so no reader takes them for it."""
    lines = [f"measured at {sampling_rate} Hz with the mel of {mel_of}"]
    if elsewhere := other_rates(sampling_rate, metrics):
        lines.append(f"{elsewhere} (resampled there, as their standards define them)")
    return lines


def require_packages(names: Iterable[str] | None) -> None:
    """Import now the optional packages these metrics (None: all) need, so that a missing one fails in one line
    naming its extra before any work (the metrics without a package need none: `--metrics mel_l1,mrstft,...`)."""
    for name in metric_names(names):
        if METRICS[name].package is not None:
            optional_import(METRICS[name].package, f"metric {name}")


def min_samples(config: HifiganConfig, metrics: Iterable[str] | None = None) -> int:
    """The shortest pair these metrics (None: all) accept at `config`: the largest of their `needs`."""
    return max(METRICS[name].needs(config) for name in metric_names(metrics))


def compute_metrics(
    reference: Signal,
    generated: Signal,
    config: HifiganConfig,
    metrics: Iterable[str] | None = None,
    *,
    max_shift: int = 0,
    max_length_difference: int | None = None,
    pitch: PitchSettings = DEFAULT_PITCH,
    source: str | None = None,
    cli: bool = False,
    reference_tracks: ReferenceTracks | None = None,
) -> dict[str, float]:
    """All (or the named) metrics of one pair at config.sampling_rate, in METRICS order; where undefined an
    `Undefined` NaN with its cause (an overflow to inf or NaN included).

    Each signal is one mono [T] (or [1, T]) of finite samples, else an AudioError (as a file is refused). Lengths
    may differ by up to `max_length_difference` samples (None: one hop; trimmed to the shorter); with
    max_shift > 0 a delay of up to that many samples is removed first (`align`). `source` names the pair in errors,
    which name these arguments (`max_length_difference=...`), or with `cli` the command's options (option_names).
    `reference_tracks`: the recording's pitch tracks, shared by the pairs scored against it (each is computed once).
    """
    names = metric_names(metrics)
    tolerance = length_tolerance(config.hop_size, max_length_difference, cli)
    ref, gen = match_lengths(mono_signal(reference, "the recording", source),
                             mono_signal(generated, "the generated audio", source), tolerance, source, cli)
    ref, gen, shift = align(ref, gen, max_shift)
    warn_lags_at_limit([(source or "the pair", shift)], max_shift, cli)
    needs = min_samples(config, names)
    if len(ref) < needs:
        raise HifiganError(source, f"too short: {count(len(ref), 'sample')}, the metrics need at least {needs}")
    sr, hop = config.sampling_rate, config.hop_size
    out: dict[str, float] = {}
    tracks: tuple[PitchTrack, PitchTrack] | None = None
    for name in names:
        if name in _TRACK_METRICS:
            if tracks is None:  # one pYIN pass per signal serves all three pitch metrics
                known = reference_tracks.track if reference_tracks is not None else pitch_track
                tracks = (known(ref, sr, hop, pitch), pitch_track(gen, sr, hop, pitch))
            out[name] = as_defined(_TRACK_METRICS[name](*tracks))
        else:
            out[name] = as_defined(_SIGNAL_METRICS[name](ref, gen, config))
    return out


_SIGNAL_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, HifiganConfig], float]] = {
    "mel_l1": mel_l1,
    "mrstft": lambda ref, gen, config: mrstft_distance(ref, gen),
    "mcd": mel_cepstral_distortion,
    "lsd": lambda ref, gen, c: log_spectral_distance(ref, gen, c.n_fft, c.hop_size, c.win_size),
    "snr": lambda ref, gen, config: snr(ref, gen),
    "pesq": lambda ref, gen, config: pesq_mos(ref, gen, config.sampling_rate),
    "stoi": lambda ref, gen, config: stoi(ref, gen, config.sampling_rate),
    "estoi": lambda ref, gen, config: estoi(ref, gen, config.sampling_rate),
}
_TRACK_METRICS: dict[str, Callable[[PitchTrack, PitchTrack], float]] = {
    "f0_rmse_cents": f0_rmse_cents, "vuv_f1": vuv_f1, "periodicity_rmse": periodicity_rmse,
}
