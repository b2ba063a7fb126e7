"""The evaluation report as one HTML page: per clip, the recording and every system side by side (player, log-mel
image, metrics), and a summary table of means with 95% CIs.

With audio="embed" (the default) the audio and the images are data URIs inside the page: it is one file that opens
from the file system in any browser, with nothing fetched (a Content-Security-Policy forbids it). audio="link"
points the players at the audio files instead, by relative paths (for evaluations too large to embed).
"""

from __future__ import annotations

import datetime
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hifigan.audio import load_audio
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.evaluation.confidence import MetricSummary
from hifigan.evaluation.metrics import METRICS, metric_title, other_rates
from hifigan.evaluation.report.media import data_uri, mel_png, relative_url, wav_bytes
from hifigan.evaluation.report.names import REFERENCE, clip_ids
from hifigan.evaluation.report.template import PAGE
from hifigan.evaluation.results import Report
from hifigan.files.atomic import atomic_path
from hifigan.mel import mel_spectrogram
from hifigan.messages.plural import byte_size, count

AUDIO_MODES = ("embed", "link")
# Content-Security-Policy media sources: an embedded page may load nothing at all; a linked one its audio files.
MEDIA_SOURCES = {"embed": "data:", "link": "'self' file: data:"}
LARGE_PAGE_BYTES = 200 * 2**20  # above this, browsers get slow on one page: suggest audio="link"


@dataclass
class Cell:
    """One player on the page: a recording or one system's version of a clip."""

    label: str
    audio: str  # URL or data URI
    mel: str  # data URI of the PNG
    seconds: float
    metrics: list[tuple[str, str, bool, str]]  # (metric title, value, best among the systems here, why undefined)


@dataclass
class Clip:
    stem: str
    cells: list[Cell]
    id: str = ""  # its section's id on the page (names.clip_ids), which its heading links to


def write_page(
    path: str | os.PathLike,
    systems: Mapping[str, Report],
    config: HifiganConfig,
    *,
    title: str = "hifigan evaluation",
    audio: str = "embed",
    resample: bool = False,
    mix_to_mono: bool = False,
    cli: bool,
) -> Path:
    """Write the page for `systems` (name -> its Report against the same recordings), atomically; `cli`: a file
    read again names the option that reads it (`--resample`), not the argument (hifigan.messages.option_names)."""
    if audio not in AUDIO_MODES:
        raise HifiganError(None, f"--html-audio must be one of {', '.join(AUDIO_MODES)}, got {audio!r}")
    if not systems:
        raise HifiganError(None, "nothing to report (no systems)")
    path = Path(path)
    reports = list(systems.values())
    stems = [f.stem for f in reports[0].files]
    for name, report in systems.items():
        if [f.stem for f in report.files] != stems:
            raise HifiganError(None, f"system {name!r} has other clips than {next(iter(systems))!r}")
    metrics = reports[0].metric_names
    clips = [_clip(i, systems, config, metrics, path, audio, resample, mix_to_mono, cli) for i in range(len(stems))]
    for clip, clip_id in zip(clips, clip_ids(stems)):
        clip.id = clip_id
    html = PAGE.render(
        title=title, count=count, created=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), systems=list(systems),
        sources={name: _folder(r) for name, r in systems.items()}, reference=_folder(reports[0], reference=True),
        summary=_summary_rows(systems, metrics, config.sampling_rate), clips=clips, config=config,
        undefined={name: r.undefined_lines() for name, r in systems.items() if r.undefined_lines()},
        subset=reports[0].subset_note(), other_rates=other_rates(config.sampling_rate, metrics),
        csp=f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src {MEDIA_SOURCES[audio]}",
    )
    if len(html) > LARGE_PAGE_BYTES:
        warnings.warn(f"{path} is {byte_size(len(html))}; browsers may be slow to open it (--html-audio link keeps "
                      "the audio in its files)", UserWarning, stacklevel=2)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path


def _clip(index: int, systems: Mapping[str, Report], config: HifiganConfig, metrics: list[str], page: Path,
          audio: str, resample: bool, mix_to_mono: bool, cli: bool) -> Clip:
    files = {name: report.files[index] for name, report in systems.items()}
    first = next(iter(files.values()))
    paths = [(REFERENCE, first.reference), *((name, f.generated) for name, f in files.items())]
    mels = [mel_spectrogram(torch.from_numpy(load_audio(p, config.sampling_rate, resample=resample,
                                                        mix_to_mono=mix_to_mono, cli=cli)),
                            **config.mel_kwargs(for_loss=True)).numpy() for _, p in paths]
    low, high = float(mels[0].min()), float(mels[0].max())  # one colour scale per clip: the recording's range
    best = {m: dict(zip(files, best_shown(m, [f.metrics.get(m) for f in files.values()]))) for m in metrics}
    cells = []
    for i, ((label, source), mel) in enumerate(zip(paths, mels)):
        values = [] if i == 0 else [  # the recording's card, whatever a system is named
            (metric_title(m, config.sampling_rate), _fmt(files[label].metrics.get(m)),
             best[m][label], files[label].undefined.get(m, ""))
            for m in metrics
        ]
        url = data_uri(wav_bytes(source), "audio/wav") if audio == "embed" else relative_url(source, page)
        cells.append(Cell(label, url, data_uri(mel_png(mel, low, high), "image/png"),
                          config.frames_seconds(mel.shape[1]), values))
    return Clip(first.stem, cells)


def best_shown(metric: str, values: list[float | None]) -> list[bool]:
    """Which of the systems' values of a metric are its best as the page shows them (`_fmt`): values shown alike
    are alike, so a tie at the shown precision marks every one of them; none where fewer than two compare."""
    shown = [None if (text := _fmt(v)) == _fmt(None) else float(text) for v in values]
    finite = [v for v in shown if v is not None]
    if len(values) < 2 or not finite:
        return [False] * len(values)
    best = max(finite) if METRICS[metric].higher_is_better else min(finite)
    return [v == best for v in shown]


def _summary_rows(systems: Mapping[str, Report], metrics: list[str], sampling_rate: int) -> list[dict]:
    """Per metric: title, unit, direction, and per system (mean [95% CI], n, is best)."""
    rows = []
    for m in metrics:
        info = METRICS[m]
        summaries: list[MetricSummary] = [r.summary[m] for r in systems.values()]
        best = best_shown(m, [s.mean for s in summaries])
        rows.append({
            "title": metric_title(m, sampling_rate, unit=False), "unit": info.unit,
            "better": "higher" if info.higher_is_better else "lower",
            "cells": [(_fmt(s.mean), _ci(s), s.n, s.n_undefined, is_best) for s, is_best in zip(summaries, best)],
        })
    return rows


def _ci(s: MetricSummary) -> str:
    return "" if s.ci95_low is None else f"[{_fmt(s.ci95_low)}, {_fmt(s.ci95_high)}]"


def _fmt(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"


def _folder(report: Report, reference: bool = False) -> str:
    """The folder the report's files come from (or '' when they come from several)."""
    folders = {str(Path(f.reference if reference else f.generated).parent) for f in report.files}
    return folders.pop() if len(folders) == 1 else ""
