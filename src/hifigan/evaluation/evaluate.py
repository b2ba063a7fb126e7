"""The library of `hifigan evaluate` (the command's options: cli/evaluate.py): generated audio against the
recordings, `hifigan.evaluation.metrics` for every file pair (of one system, or of several scored together),
summarised (mean and 95% Student-t confidence interval per metric), and the report files."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.evaluation.metrics import metric_names, require_packages
from hifigan.evaluation.output import report_paths, write_report
from hifigan.evaluation.pairing import (
    Pair,
    check_max_shift,
    check_pair_items,
    length_tolerance,
    warn_lags_at_limit,
)
from hifigan.evaluation.perceptual import ESTOI_SEED, SNR_CAP_DB, STOI_RATE, pesq_band
from hifigan.evaluation.pitch import DEFAULT_PITCH, PitchSettings
from hifigan.evaluation.provenance import package_versions, read_record
from hifigan.evaluation.results import Report, aggregate
from hifigan.evaluation.scoring import Decoded, PairJob, score_systems
from hifigan.evaluation.spectral import mcd_coefficients
from hifigan.models.stft import PWG_RESOLUTIONS


def evaluate_pairs(
    pairs: Sequence[Pair],
    config: HifiganConfig,
    out: str | os.PathLike | None = None,
    *,
    metrics: Iterable[str] | None = None,
    resample: bool = False,
    mix_to_mono: bool = False,
    max_shift: int = 0,
    max_length_difference: int | None = None,
    pitch: PitchSettings = DEFAULT_PITCH,
    progress: bool | None = None,
    config_name: str | None = None,
    subset_of: int | None = None,
    cli: bool = False,
    references: Mapping[str | os.PathLike, Decoded] | None = None,
) -> Report:
    """Compute the metrics of every (stem, reference, generated) pair at the config's rate; write the report to
    `out` (a folder -> folder/evaluation.{json,png}, else a prefix -> prefix.{json,png}) when given.
    `config_name` (how the config was given or chosen) is recorded in the report's settings. Lengths that differ
    by up to `max_length_difference` samples (None: one hop) are trimmed to the shorter; more is an error.
    `subset_of`: the pairs are a test set, the stems of the systems, of a folder of this many recordings (--subset;
    pairing.pair_by_stem(..., subset=True) pairs them); None: of the recordings the pairs hold. Both are recorded.
    A message names the argument that changes it (`resample=True`), or with `cli` (`hifigan evaluate`, `vocode
    --evaluate`) the command's option (`--resample`; hifigan.messages.option_names). `references`: recordings the
    caller has read already (path -> audio.read_audio's samples, rate and channels, at the config's rate under these
    `resample` and `mix_to_mono`), scored without reading them again (`vocode --evaluate`'s inputs, from its checks).
    """
    return evaluate_each({"": pairs}, config, {"": out}, metrics=metrics, resample=resample, mix_to_mono=mix_to_mono,
                         max_shift=max_shift, max_length_difference=max_length_difference, pitch=pitch,
                         progress=progress, config_name=config_name, subset_of=subset_of, cli=cli,
                         references=references)[""]


def evaluate_each(
    systems: Mapping[str, Sequence[Pair]],
    config: HifiganConfig,
    outs: Mapping[str, str | os.PathLike | None],
    *,
    metrics: Iterable[str] | None = None,
    resample: bool = False,
    mix_to_mono: bool = False,
    max_shift: int = 0,
    max_length_difference: int | None = None,
    pitch: PitchSettings = DEFAULT_PITCH,
    progress: bool | None = None,
    config_name: str | None = None,
    subset_of: int | None = None,
    cli: bool = False,
    references: Mapping[str | os.PathLike, Decoded] | None = None,
) -> dict[str, Report]:
    """`evaluate_pairs` of several systems against the same recordings (name -> its pairs; its report written to
    outs[name] where given), scored in one pass: the pairs of a recording together, so that it is decoded once and
    its pitch track computed once per cut (scoring.score_systems; `references`: as evaluate_pairs'). Nothing is
    written until every pair is scored."""
    if not systems or not all(systems.values()):
        raise HifiganError(None, "nothing to evaluate (no file pairs)")
    for system, pairs in systems.items():  # evaluate_pairs' one system is named ""
        check_pair_items(pairs, f"systems[{system!r}]" if system else "pairs")
    check_max_shift(max_shift, config.hop_size, cli)
    tolerance = length_tolerance(config.hop_size, max_length_difference, cli)
    names = metric_names(metrics)
    require_packages(names)
    # fail on a bad output path before the long part
    paths = {name: report_paths(out) for name, out in outs.items() if out is not None}
    sr = config.sampling_rate
    job = PairJob(config, tuple(names), resample, mix_to_mono, tolerance, max_shift, pitch, cli)
    started = time.perf_counter()
    held = {Path(path): decoded for path, decoded in (references or {}).items()}
    scored = score_systems(list(systems.values()), job, progress, references=held)
    elapsed = time.perf_counter() - started
    # each system's share of the pass's time is that of its audio: scored together, a second costs them alike
    audio = [sum(r.duration_s for r in results) for results in scored]
    shares = [a / sum(audio) if sum(audio) else 1 / len(audio) for a in audio]
    reports = {}
    for (name, pairs), results, share in zip(systems.items(), scored, shares):
        started = time.perf_counter()
        warn_lags_at_limit([(r.generated, r.shift_samples) for r in results], max_shift, cli)
        settings = {"config": config_name, **report_settings(config, names, max_shift, pitch, tolerance),
                    "subset": subset_of is not None,
                    "reference_recordings": len(pairs) if subset_of is None else subset_of,
                    **read_record(results, sr, resample=resample, mix_to_mono=mix_to_mono)}
        summary = aggregate([r.metrics for r in results], names, sr)
        reports[name] = Report(results, summary, settings, elapsed * share + time.perf_counter() - started)
    for name, path in paths.items():
        write_report(reports[name], path, config, resample=resample, mix_to_mono=mix_to_mono,
                     max_length_difference=tolerance, cli=cli, references=held)
    return reports


def report_settings(config: HifiganConfig, names: list[str], max_shift: int = 0, pitch: PitchSettings = DEFAULT_PITCH,
                    max_length_difference: int | None = None) -> dict[str, Any]:
    """How the metrics were measured, as a report records it: rate, mel, PESQ band, STFT and pitch settings, the
    largest length difference trimmed (None: one hop), the constants of MCD and ESTOI, and the packages' versions."""
    pesq_rate, pesq_mode, pesq_standard = pesq_band(config.sampling_rate) or (None, None, None)  # None: undefined
    return {
        "sampling_rate": config.sampling_rate,
        "mel": config.mel_kwargs(for_loss=True),
        "metrics": names,
        "max_shift_samples": max_shift,
        "length_tolerance_samples": length_tolerance(config.hop_size, max_length_difference),
        "mrstft_resolutions": [list(r) for r in PWG_RESOLUTIONS],
        "pesq_rate": pesq_rate,
        "pesq_mode": pesq_mode,
        "pesq_standard": pesq_standard,
        "stoi_rate": STOI_RATE,
        "snr_cap_db": SNR_CAP_DB,
        "mcd_coefficients": mcd_coefficients(config),
        "estoi_seed": ESTOI_SEED,
        "pitch": {**asdict(pitch), "tracker": "librosa.pyin", "frame_length": pitch.frame_length(config.sampling_rate),
                  "hop_length": config.hop_size},
        "versions": package_versions(),
    }

