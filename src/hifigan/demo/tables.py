"""The demo's tables: per clip and per metric, at the start and the end of training and for each compared model,
as markdown (also readable in a terminal)."""

from __future__ import annotations

import math
from typing import Any


def score_table(clips: list[str], start: list[dict[str, float]], end: list[dict[str, float]],
                others: dict[str, list[dict[str, float]]] | None = None) -> list[dict[str, Any]]:
    """One row per clip with every metric at the start and the end ("<metric> start", "<metric> end") and of
    each model in `others` ("<metric> <name>"), then a mean row (the mean over the clips where the metric is
    defined)."""
    from hifigan.evaluation.results import aggregate

    columns = {"start": start, "end": end, **(others or {})}
    rows: list[dict[str, Any]] = [
        {"clip": clip, **{f"{k} {when}": v for when, scores in columns.items() for k, v in scores[i].items()}}
        for i, clip in enumerate(clips)
    ]
    means = {f"{k} {when}": summary.mean for when, scores in columns.items()
             for k, summary in aggregate(scores).items()}
    rows.append({"clip": "mean", **{k: math.nan if means[k] is None else means[k] for k in rows[0] if k != "clip"}})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table (also readable in a terminal); NaN shows as "-"."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row.values()) + " |")
    return "\n".join(lines)


def summary_table(clips: list[str], start: list[dict[str, float]], end: list[dict[str, float]],
                  others: dict[str, list[dict[str, float]]] | None = None, sampling_rate: int | None = None) -> str:
    """Markdown: per metric, which direction is better and its mean [95% CI] over the clips at the start and
    the end of training, then for each model in `others` (hifigan.evaluation.results.aggregate; "-" where undefined or
    n < 2). At a known `sampling_rate` the PESQ row names its band, and its interval is clipped to that band's range.
    Below the table, a list item per column and cause of undefined values, worded as `hifigan evaluate` words them
    ("- end: PESQ (wb) undefined for 1 file (b): the generated audio is digital silence")."""
    from hifigan.evaluation.metrics import METRICS, metric_title
    from hifigan.evaluation.results import aggregate, undefined_lines

    scored = {"start": start, "end": end, **(others or {})}
    columns = {when: aggregate(scores, sampling_rate=sampling_rate) for when, scores in scored.items()}
    lines = ["| metric | better | " + " | ".join(f"{k} mean [95% CI]" for k in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for name, info in METRICS.items():
        if name not in columns["start"]:
            continue
        title = metric_title(name, sampling_rate)
        better = "higher" if info.higher_is_better else "lower"
        lines.append(f"| {title} | {better} | " + " | ".join(_mean_ci(c[name]) for c in columns.values()) + " |")
    causes = [f"- {when}: {line}" for when, scores in scored.items()
              for line in undefined_lines(clips, scores, columns[when], sampling_rate)]
    return "\n".join(lines + (["", *causes] if causes else []))


def _mean_ci(summary) -> str:
    if summary.mean is None:
        return f"- ({summary.n_undefined} undefined)" if summary.n_undefined else "-"
    ci = "" if summary.ci95_low is None else f" [{summary.ci95_low:.4f}, {summary.ci95_high:.4f}]"
    undefined = f" ({summary.n_undefined} undefined)" if summary.n_undefined else ""
    return f"{summary.mean:.4f}{ci}{undefined}"


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "-" if math.isnan(value) else f"{value:.4f}"


def resampled_note(read: dict[str, Any]) -> str:
    """' (the recordings resampled from 22050 Hz by soxr HQ)' where a report's read record (evaluation.provenance
    .read_record) says the recordings were resampled, else ''."""
    rates = read["inputs"]["reference"]["resampled_from"]
    return f" (the recordings resampled from {' and '.join(rates)} Hz by {read['resampler']})" if rates else ""
