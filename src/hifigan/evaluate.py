"""Evaluate generated audio against the recordings: pair files by stem, compute `hifigan.metrics`, summarise.

The summary is the mean of each metric with a 95% confidence interval from the t-distribution; the report is
a terminal table, a JSON file (per-file and mean values) and a PNG (per-file distributions and one
reference/generated spectrogram pair), each written atomically.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hifigan.atomic import atomic_path, prepare_output_dir
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.metrics import (
    DEFAULT_PITCH,
    METRICS,
    MRSTFT_RESOLUTIONS,
    PESQ_RATE,
    SNR_CAP_DB,
    PitchSettings,
    align,
    compute_metrics,
    match_lengths,
    metric_names,
)
from hifigan.stats import MetricSummary, summarize

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".mp3", ".opus", ".w64"})
Pair = tuple[str, Path, Path]  # (stem, reference file, generated file)


@dataclass
class FileResult:
    """One pair's metrics (NaN = undefined for that file)."""

    stem: str
    reference: str
    generated: str
    duration_s: float
    shift_samples: int
    metrics: dict[str, float]


@dataclass
class Report:
    """Per-file results, their summary, and the settings that produced them."""

    files: list[FileResult]
    summary: dict[str, MetricSummary]
    settings: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def metric_names(self) -> list[str]:
        return list(self.summary)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN becomes null."""
        audio_s = sum(f.duration_s for f in self.files)
        return nan_to_none({
            "hifigan_evaluation": 1,
            "settings": self.settings,
            "metrics": {m: {"unit": METRICS[m].unit, "higher_is_better": METRICS[m].higher_is_better}
                        for m in self.metric_names},
            "summary": {m: asdict(s) for m, s in self.summary.items()},
            "files": [asdict(f) for f in self.files],
            "timing": {"seconds": self.elapsed_s, "audio_seconds": audio_s,
                       "seconds_per_audio_second": self.elapsed_s / audio_s if audio_s else None},
        })

    def format_table(self, per_file: bool = False) -> str:
        """A plain-text table: optionally one row per file, then mean and 95% CI per metric."""
        names = self.metric_names
        lines = []
        if per_file:
            width = max([4, *(len(f.stem) for f in self.files)])
            lines.append(" ".join([f"{'file':<{width}}", *(f"{m:>16}" for m in names)]))
            for f in self.files:
                lines.append(" ".join([f"{f.stem:<{width}}", *(f"{_fmt(f.metrics[m]):>16}" for m in names)]))
            lines.append("")
        lines.append(f"{'metric':<22} {'better':>6} {'mean':>10} {'95% CI':>23} {'n':>5}")
        for m, s in self.summary.items():
            info = METRICS[m]
            title = f"{info.title} ({info.unit})" if info.unit else info.title
            ci = "-" if s.ci95_low is None else f"[{_fmt(s.ci95_low)}, {_fmt(s.ci95_high)}]"
            undefined = f" ({s.n_undefined} undefined)" if s.n_undefined else ""
            lines.append(f"{title:<22} {'higher' if info.higher_is_better else 'lower':>6} "
                         f"{_fmt(s.mean):>10} {ci:>23} {s.n:>5}{undefined}")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def nan_to_none(obj: Any) -> Any:
    """NaN floats -> None, recursively, so reports serialise as JSON null."""
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [nan_to_none(v) for v in obj]
    return obj


def aggregate(rows: Sequence[Mapping[str, float]], names: Iterable[str] | None = None) -> dict[str, MetricSummary]:
    """Summarise per-file metric dicts (from `compute_metrics`) metric by metric, in METRICS order."""
    names = list(names) if names is not None else [m for m in METRICS if rows and m in rows[0]]
    return {m: summarize(row[m] for row in rows) for m in names}


# ---------------------------------------------------------------- pairing and running
def audio_files(folder: Path) -> dict[str, Path]:
    """The audio files directly in `folder`, by stem (hidden files and other suffixes are ignored)."""
    if not folder.exists():
        raise HifiganError(folder, "no such folder")
    if not folder.is_dir():
        raise HifiganError(folder, "is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
            continue
        if path.stem in found:
            raise HifiganError(path, f"same stem as {found[path.stem]}; cannot tell which to pair")
        found[path.stem] = path
    if not found:
        raise HifiganError(folder, f"contains no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})")
    return found


def pair_by_stem(reference_dir: Path, generated_dir: Path) -> list[Pair]:
    """Match reference and generated files by stem; a file without a partner is an error that names it."""
    refs, gens = audio_files(Path(reference_dir)), audio_files(Path(generated_dir))
    for stem, path in refs.items():
        if stem not in gens:
            raise HifiganError(path, f"no generated file with stem {stem!r} in {generated_dir}")
    for stem, path in gens.items():
        if stem not in refs:
            raise HifiganError(path, f"no reference file with stem {stem!r} in {reference_dir}")
    return [(stem, refs[stem], gens[stem]) for stem in refs]


def evaluate_pairs(
    pairs: Sequence[Pair],
    config: HifiganConfig,
    out: str | os.PathLike | None = None,
    *,
    metrics: Iterable[str] | None = None,
    resample: bool = False,
    mix_to_mono: bool = False,
    max_shift: int = 0,
    pitch: PitchSettings = DEFAULT_PITCH,
    progress: bool = True,
) -> Report:
    """Compute the metrics of every (stem, reference, generated) pair at the config's rate; write the report to
    `out` (a folder -> folder/evaluation.{json,png}, else a prefix -> prefix.{json,png}) when given.
    """
    from tqdm import tqdm

    from hifigan.audio import load_audio

    if not pairs:
        raise HifiganError(None, "nothing to evaluate (no file pairs)")
    if not 0 <= max_shift <= config.hop_size:
        raise HifiganError(None, f"--max-shift must be between 0 and one hop ({config.hop_size}), got {max_shift}")
    names = metric_names(metrics)
    paths = report_paths(out) if out is not None else None  # fail on a bad output path before the long part
    sr = config.sampling_rate
    started = time.perf_counter()
    results: list[FileResult] = []
    bar = tqdm(pairs, desc="evaluate", unit="file", disable=not progress or len(pairs) < 2, file=sys.stderr)
    for stem, ref_path, gen_path in bar:
        ref, gen = (load_audio(p, sr, resample=resample, mix_to_mono=mix_to_mono) for p in (ref_path, gen_path))
        source = f"{gen_path} (vs {ref_path})"
        ref, gen = match_lengths(ref, gen, config.hop_size, source)
        ref, gen, shift = align(ref, gen, max_shift)
        values = compute_metrics(ref, gen, config, names, pitch=pitch, source=source)
        results.append(FileResult(stem, str(ref_path), str(gen_path), len(ref) / sr, shift, values))
    settings = _settings(config, names, max_shift, pitch)
    report = Report(results, aggregate([r.metrics for r in results], names), settings,
                    time.perf_counter() - started)
    if paths is not None:
        write_report(report, paths, config, resample=resample, mix_to_mono=mix_to_mono)
    return report


def _settings(config: HifiganConfig, names: list[str], max_shift: int, pitch: PitchSettings) -> dict[str, Any]:
    return {
        "sampling_rate": config.sampling_rate,
        "mel": config.mel_kwargs(for_loss=True),
        "metrics": names,
        "max_shift_samples": max_shift,
        "length_tolerance_samples": config.hop_size,
        "mrstft_resolutions": [list(r) for r in MRSTFT_RESOLUTIONS],
        "pesq_rate": PESQ_RATE,
        "snr_cap_db": SNR_CAP_DB,
        "pitch": {**asdict(pitch), "tracker": "librosa.pyin", "frame_length": pitch.frame_length(config.sampling_rate),
                  "hop_length": config.hop_size},
    }


# ---------------------------------------------------------------- output
def report_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """(json, png) for `out`: an existing folder or a path ending in a separator is a folder (created),
    anything else a prefix (a .json or .png suffix is dropped)."""
    text = os.fspath(out)
    out = Path(out)
    if out.is_dir() or text.endswith(("/", os.sep)):
        folder, stem = out, "evaluation"
    else:
        folder = out.parent if str(out.parent) else Path(".")
        stem = out.stem if out.suffix.lower() in (".json", ".png") else out.name
    prepare_output_dir(folder)
    return folder / f"{stem}.json", folder / f"{stem}.png"


def write_report(report: Report, paths: tuple[Path, Path], config: HifiganConfig, *, resample: bool = False,
                 mix_to_mono: bool = False) -> None:
    """Write the JSON and the PNG atomically; the PNG's spectrograms are of the file with the median mel L1
    (or the first file)."""
    json_path, png_path = paths
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    typical = _typical_file(report)
    from hifigan.audio import load_audio

    sr = config.sampling_rate
    ref, gen = (load_audio(p, sr, resample=resample, mix_to_mono=mix_to_mono)
                for p in (typical.reference, typical.generated))
    ref, gen = match_lengths(ref, gen, config.hop_size, typical.generated)
    with atomic_path(png_path) as tmp:
        plot_report(report, tmp, config, (typical.stem, ref, gen))


def _typical_file(report: Report) -> FileResult:
    files = [f for f in report.files if np.isfinite(f.metrics.get("mel_l1", np.nan))]
    if not files:
        return report.files[0]
    files.sort(key=lambda f: f.metrics["mel_l1"])
    return files[(len(files) - 1) // 2]


def plot_report(report: Report, path: Path, config: HifiganConfig,
                example: tuple[str, np.ndarray, np.ndarray] | None = None) -> None:
    """PNG: one box plot with the per-file points per metric, and the example's log-mel spectrograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = report.metric_names
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    spec_rows = 2 if example is not None else 0
    fig = plt.figure(figsize=(3.2 * cols + 1, 2.6 * rows + 2.4 * spec_rows), constrained_layout=True)
    grid = fig.add_gridspec(rows + spec_rows, cols)
    rng = np.random.default_rng(0)
    for i, m in enumerate(names):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        values = np.array([f.metrics[m] for f in report.files], dtype=np.float64)
        values = values[np.isfinite(values)]
        info = METRICS[m]
        if len(values):
            ax.boxplot(values, widths=0.5, showfliers=False)
            ax.scatter(1 + rng.uniform(-0.15, 0.15, len(values)), values, s=10, alpha=0.6, color="tab:blue")
        ax.set_title(f"{info.title} ({'↑' if info.higher_is_better else '↓'})", fontsize=9)
        ax.set_ylabel(info.unit, fontsize=8)
        ax.set_xticks([])
    if example is not None:
        from hifigan.metrics import loss_log_mel

        stem, ref, gen = example
        hop_s = config.hop_size / config.sampling_rate
        mels = [loss_log_mel(audio, config)[0].numpy() for audio in (ref, gen)]
        low, high = float(mels[0].min()), float(mels[0].max())  # one colour scale: the reference's range
        for j, (label, mel) in enumerate(zip(("reference", "generated"), mels)):
            ax = fig.add_subplot(grid[rows + j, :])
            ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", interpolation="nearest", vmin=low, vmax=high,
                      extent=(0, mel.shape[1] * hop_s, 0, mel.shape[0]))
            ax.set_title(f"{stem}: {label} log-mel", fontsize=9)
            ax.set_ylabel("mel bin", fontsize=8)
        ax.set_xlabel("time (s)", fontsize=8)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
