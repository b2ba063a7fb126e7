"""The report files of an evaluation: where they go (`report_paths`), the JSON and the PNG (per-file
distributions and one reference/generated spectrogram pair), each written atomically."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.evaluation.metrics import METRICS, metric_title
from hifigan.evaluation.pairing import length_tolerance, match_lengths, shift
from hifigan.evaluation.results import FileResult, Report
from hifigan.files.atomic import atomic_paths
from hifigan.files.output_folders import prepare_output_dir
from hifigan.files.write_failures import write_failure
from hifigan.messages.figure_text import drawable

if TYPE_CHECKING:
    from hifigan.evaluation.scoring import Decoded


def report_paths(out: str | os.PathLike, create: bool = True) -> tuple[Path, Path]:
    """(json, png) for `out`: an existing folder or a path ending in a separator is a folder (created unless not
    `create`), anything else a prefix (a .json or .png suffix is dropped)."""
    text = os.fspath(out)
    out = Path(out)
    if out.is_dir() or text.endswith(("/", os.sep)):
        folder, stem = out, "evaluation"
    else:
        folder = out.parent if str(out.parent) else Path(".")
        stem = out.stem if out.suffix.lower() in (".json", ".png") else out.name
    if create:
        prepare_output_dir(folder)
    return folder / f"{stem}.json", folder / f"{stem}.png"


def write_report(report: Report, paths: tuple[Path, Path], config: HifiganConfig, *, resample: bool = False,
                 mix_to_mono: bool = False, max_length_difference: int | None = None, cli: bool,
                 references: Mapping[Path, Decoded] | None = None) -> None:
    """Write the JSON and the PNG atomically, as a unit (neither without the other); the PNG's spectrograms are
    `example_pair`'s, the pair as it was scored (trimmed and aligned), its recording taken from `references` where
    the caller holds it (evaluate_pairs'), else read again.
    `cli`: a file read again names the option that reads it (`--resample`), not the argument (option_names)."""
    example = example_pair(report, config, resample=resample, mix_to_mono=mix_to_mono,
                           max_length_difference=max_length_difference, cli=cli, references=references)
    with atomic_paths(paths) as (json_tmp, png_tmp):
        json_tmp.write_text(json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
        try:
            plot_report(report, png_tmp, config, example)
        except OSError as e:  # named after the PNG (atomic_paths names an unnamed failure after the first file)
            raise write_failure(paths[1], e) from None


def example_pair(report: Report, config: HifiganConfig, *, resample: bool = False, mix_to_mono: bool = False,
                 max_length_difference: int | None = None, cli: bool,
                 references: Mapping[Path, Decoded] | None = None) -> tuple[str, np.ndarray, np.ndarray]:
    """(stem, recording, generated) of the file the PNG draws (the median mel L1, or the first), as it was scored:
    trimmed to one length (`max_length_difference`, None: one hop) and shifted by its `shift_samples`
    (--max-shift), its recording taken from `references` where the caller holds it, else read again."""
    from hifigan.audio import load_audio

    typical = _typical_file(report)
    sr = config.sampling_rate
    held = (references or {}).get(Path(typical.reference))
    ref = held[0] if held is not None else load_audio(typical.reference, sr, resample=resample,
                                                      mix_to_mono=mix_to_mono, cli=cli)
    gen = load_audio(typical.generated, sr, resample=resample, mix_to_mono=mix_to_mono, cli=cli)
    tolerance = length_tolerance(config.hop_size, max_length_difference, cli)
    ref, gen = match_lengths(ref, gen, tolerance, typical.generated, cli)
    return (typical.stem, *shift(ref, gen, typical.shift_samples))


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
        title = metric_title(m, config.sampling_rate, unit=False)
        ax.set_title(f"{title} ({'↑' if info.higher_is_better else '↓'})", fontsize=9)
        ax.set_ylabel(info.unit, fontsize=8)
        ax.set_xticks([])
    if example is not None:
        import torch

        from hifigan.mel import mel_spectrogram

        stem, ref, gen = example
        mels = [mel_spectrogram(torch.from_numpy(audio), **config.mel_kwargs(for_loss=True)).numpy()
                for audio in (ref, gen)]
        low, high = float(mels[0].min()), float(mels[0].max())  # one colour scale: the reference's range
        for j, (label, mel) in enumerate(zip(("reference", "generated"), mels)):
            ax = fig.add_subplot(grid[rows + j, :])
            ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", interpolation="nearest", vmin=low, vmax=high,
                      extent=(0, config.frames_seconds(mel.shape[1]), 0, mel.shape[0]))
            ax.set_title(f"{drawable(stem)}: {label} log-mel", fontsize=9, parse_math=False)  # a stem's `$_$`
            ax.set_ylabel("mel bin", fontsize=8)
        ax.set_xlabel("time (s)", fontsize=8)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
