"""What an evaluation produces: per-file results and their summary (`Report`), as a table or JSON-ready dict."""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hifigan.evaluation.confidence import MetricSummary, summarize
from hifigan.evaluation.metrics import METRICS, metric_bounds, metric_title
from hifigan.evaluation.pairing import subset_note
from hifigan.evaluation.undefined import undefined_reason
from hifigan.messages.plural import count


@dataclass
class FileResult:
    """One pair's metrics (NaN = undefined for that file; an `Undefined` says why)."""

    stem: str
    reference: str
    generated: str
    duration_s: float
    shift_samples: int
    metrics: dict[str, float]
    trimmed_samples: int = 0  # cut from the end of the longer signal to match lengths (at most one hop)
    trimmed_from: str | None = None  # which one: "reference", "generated", or None when the lengths matched
    # each file as stored, before it was read at the config's rate: {"reference": {"sampling_rate": 24000,
    # "channels": 1}, "generated": {...}}; None for audio scored from memory
    formats: dict[str, dict[str, int]] | None = None

    @property
    def undefined(self) -> dict[str, str]:
        """Why each metric that is undefined for this pair is (metric -> cause)."""
        reasons = {m: undefined_reason(v) for m, v in self.metrics.items()}
        return {m: reason for m, reason in reasons.items() if reason is not None}


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

    def subset_note(self) -> str | None:
        """With --subset (settings `subset`), how many of the recordings were evaluated, for the table's header and
        the page; else None."""
        if not self.settings.get("subset"):
            return None
        return f"evaluated {subset_note(len(self.files), self.settings['reference_recordings'])}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN becomes null; each file's `undefined` says why (metric -> cause)."""
        audio_s = sum(f.duration_s for f in self.files)
        return nan_to_none({
            "hifigan_evaluation": 1,
            "settings": self.settings,
            "metrics": {m: {"unit": METRICS[m].unit, "higher_is_better": METRICS[m].higher_is_better}
                        for m in self.metric_names},
            "summary": {m: asdict(s) for m, s in self.summary.items()},
            "files": [{**asdict(f), "undefined": f.undefined} for f in self.files],
            "timing": {"seconds": self.elapsed_s, "audio_seconds": audio_s,
                       "seconds_per_audio_second": self.elapsed_s / audio_s if audio_s else None},
        })

    def format_table(self, per_file: bool = False) -> str:
        """A plain-text table: optionally one row per file, then mean and 95% CI per metric."""
        names = self.metric_names
        lines = []
        if per_file:
            width = max([4, *(_cells(f.stem) for f in self.files)])
            lines.append(" ".join([f"{'file':<{width}}", *(f"{m:>16}" for m in names)]))
            for f in self.files:
                name = f.stem + " " * (width - _cells(f.stem))
                lines.append(" ".join([name, *(f"{_fmt(f.metrics[m]):>16}" for m in names)]))
            lines.append("")
        lines.append(f"{'metric':<22} {'better':>6} {'mean':>10} {'95% CI':>23} {'n':>5}")
        for m, s in self.summary.items():
            info, title = METRICS[m], metric_title(m, self.settings.get("sampling_rate"))
            ci = "-" if s.ci95_low is None else f"[{_fmt(s.ci95_low)}, {_fmt(s.ci95_high)}]"
            undefined = f" ({s.n_undefined} undefined)" if s.n_undefined else ""
            lines.append(f"{title:<22} {'higher' if info.higher_is_better else 'lower':>6} "
                         f"{_fmt(s.mean):>10} {ci:>23} {s.n:>5}{undefined}")
        return "\n".join(lines + self.undefined_lines())

    def undefined_lines(self) -> list[str]:
        """One line per cause of undefined values and the files it strikes (`undefined_lines`)."""
        return undefined_lines([f.stem for f in self.files], [f.metrics for f in self.files], self.metric_names,
                               self.settings.get("sampling_rate"))


def undefined_lines(stems: Sequence[str], rows: Sequence[Mapping[str, float]], names: Iterable[str],
                    sampling_rate: int | None = None) -> list[str]:
    """One line per cause of the undefined values in `rows` (one per file, named by `stems`) and the files it
    strikes, naming the metrics of `names`, how many files and the first three ("PESQ (wb), STOI undefined for 2
    files (a, b): the recording is digital silence")."""
    metrics: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # (cause, stems) -> metric titles, METRICS order
    for m in names:
        causes: dict[str, list[str]] = {}
        for stem, row in zip(stems, rows, strict=True):
            if (reason := undefined_reason(row.get(m))) is not None:
                causes.setdefault(reason, []).append(stem)
        title = metric_title(m, sampling_rate, unit=False)
        for reason, named in causes.items():
            metrics.setdefault((reason, tuple(named)), []).append(title)
    lines = []
    for (reason, named), titles in metrics.items():
        shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        lines.append(f"{', '.join(titles)} undefined for {count(len(named), 'file')} ({shown}): {reason}")
    return lines


def _cells(text: str) -> int:
    """How many terminal cells `text` takes: a wide (CJK) character two, a combining mark none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fmt(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def nan_to_none(obj: Any) -> Any:
    """NaN and infinite floats -> None, recursively, so reports serialise as JSON null (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [nan_to_none(v) for v in obj]
    return obj


def aggregate(rows: Sequence[Mapping[str, float]], names: Iterable[str] | None = None,
              sampling_rate: int | None = None) -> dict[str, MetricSummary]:
    """Summarise per-file metric dicts (from `compute_metrics`) metric by metric, in METRICS order, each interval
    clipped to its metric's range (`metric_bounds`; at a known `sampling_rate` PESQ's band's). `names` defaults to
    every metric a row gives; each row must give each of them (an undefined value is NaN), else a ValueError names
    the row and the metric, as does a value that is not a number (or None)."""
    names = list(names) if names is not None else [m for m in METRICS if any(m in row for row in rows)]
    for i, row in enumerate(rows):
        if (lacking := next((m for m in names if m not in row), None)) is not None:
            raise ValueError(f"aggregate: row {i} has no {lacking!r} metric (every row gives every metric "
                             "summarised; an undefined value is NaN, not left out)")
        if (odd := next((m for m in names if not isinstance(row[m], numbers.Real | None)), None)) is not None:
            raise ValueError(f"aggregate: row {i}'s {odd!r} is {type(row[odd]).__name__} {row[odd]!r:.40}, not a "
                             "number (an undefined value is NaN or None)")
    return {m: summarize((row[m] for row in rows), bounds=metric_bounds(m, sampling_rate)) for m in names}
