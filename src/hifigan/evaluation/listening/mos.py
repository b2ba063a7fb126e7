"""MOS per system with 95% confidence intervals, as the paper's Table 1, from a study's ratings.

The interval is mean ± t(0.975, n−1)·s/√n over the system's ratings (hifigan.evaluation.confidence.summarize), clipped
to the 1..5 scale (ci95_low, ci95_high); the table shows the paper's (±half-width). Screening
(optional) drops every rating of raters whose mean score of the hidden reference is below a threshold: a rater who
calls the recordings poor was not listening, or not on working headphones.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hifigan.evaluation.confidence import summarize
from hifigan.evaluation.listening.study import REFERENCE, SCALE
from hifigan.files.atomic import atomic_path
from hifigan.messages.plural import count

Rating = tuple[str, str, str, int]  # (rater, system, clip, score)
SCALE_BOUNDS = (float(min(SCALE)), float(max(SCALE)))  # an interval never leaves the rating scale


@dataclass
class SystemMos:
    system: str
    mos: float | None
    ci95: float | None  # half-width of the interval, t(0.975, n-1) s / sqrt(n), before clipping
    std: float | None
    ratings: int
    raters: int
    clips: int
    ci95_low: float | None = None  # the interval mos ± ci95 clipped to the scale
    ci95_high: float | None = None


@dataclass
class RaterSummary:
    rater: str
    ratings: int
    mean: float | None
    reference_mean: float | None
    excluded: bool


@dataclass
class MosReport:
    systems: list[SystemMos]
    raters: list[RaterSummary]
    clips: dict[str, dict[str, SystemMos]]  # clip -> system -> MOS of that clip
    screen_reference_below: float | None = None
    total_ratings: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hifigan_listening_report": 1,
            "scale": "5-point absolute category rating (5 Excellent, 4 Good, 3 Fair, 2 Poor, 1 Bad)",
            "interval": "mean ± t(0.975, n-1) * s / sqrt(n) over the system's ratings (ci95: that half-width); "
                        "[ci95_low, ci95_high] is the interval clipped to the scale",
            "screen_reference_below": self.screen_reference_below,
            "total_ratings": self.total_ratings,
            "used_ratings": sum(s.ratings for s in self.systems),
            "systems": [asdict(s) for s in self.systems],
            "raters": [asdict(r) for r in self.raters],
            "clips": {c: {s: asdict(m) for s, m in per.items()} for c, per in self.clips.items()},
        }


def _mos(system: str, ratings: Sequence[Rating]) -> SystemMos:
    summary = summarize((float(r[3]) for r in ratings), bounds=SCALE_BOUNDS)
    return SystemMos(system, summary.mean, summary.ci95_half, summary.std, summary.n, len({r[0] for r in ratings}),
                     len({r[2] for r in ratings}), summary.ci95_low, summary.ci95_high)


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def mos_report(ratings: Sequence[Rating], systems: Sequence[str],
               screen_reference_below: float | None = None) -> MosReport:
    """MOS per system (in `systems` order), per rater and per clip; screened raters' ratings left out."""
    by_rater: dict[str, list[Rating]] = defaultdict(list)
    for r in ratings:
        by_rater[r[0]].append(r)
    raters = []
    for name, rows in by_rater.items():
        reference = _mean([r[3] for r in rows if r[1] == REFERENCE])
        excluded = (screen_reference_below is not None and reference is not None
                    and reference < screen_reference_below)
        raters.append(RaterSummary(name, len(rows), _mean([r[3] for r in rows]), reference, excluded))
    dropped = {r.rater for r in raters if r.excluded}
    kept = [r for r in ratings if r[0] not in dropped]
    by_system: dict[str, list[Rating]] = defaultdict(list)
    by_clip: dict[str, dict[str, list[Rating]]] = defaultdict(lambda: defaultdict(list))
    for r in kept:
        by_system[r[1]].append(r)
        by_clip[r[2]][r[1]].append(r)
    notes = []
    if screen_reference_below is not None:
        unscreened = [r.rater for r in raters if r.reference_mean is None]
        notes.append(f"screening: {len(dropped)} of {count(len(raters), 'rater')} excluded (mean score of the hidden "
                     f"reference below {screen_reference_below:g})")
        if unscreened:
            notes.append(f"not screened (rated no reference clip yet): {', '.join(unscreened)}")
    return MosReport(
        systems=[_mos(s, by_system.get(s, [])) for s in systems],
        raters=raters,
        clips={c: {s: _mos(s, per[s]) for s in systems if s in per} for c, per in sorted(by_clip.items())},
        screen_reference_below=screen_reference_below, total_ratings=len(ratings), notes=notes,
    )


def label(system: str) -> str:
    return "Ground Truth (hidden reference)" if system == REFERENCE else system


def mos_cell(m: SystemMos) -> str:
    """As the paper writes it: 4.36 (±0.07)."""
    if m.mos is None:
        return "–"
    return f"{m.mos:.2f} (±{m.ci95:.2f})" if m.ci95 is not None and math.isfinite(m.ci95) else f"{m.mos:.2f}"


def markdown(report: MosReport) -> str:
    """Table 1 (MOS with 95% CI per system), then per-rater and per-clip tables."""
    lines = ["| Model | MOS (95% CI) | ratings | raters | clips |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {label(m.system)} | {mos_cell(m)} | {m.ratings} | {m.raters} | {m.clips} |" for m in report.systems]
    lines += ["", f"{count(report.total_ratings, 'rating')} in all; 5-point absolute category rating; "
              f"95% CI = MOS ± t(0.975, n−1)·s/√n over each system's ratings, clipped to the {min(SCALE)}–{max(SCALE)} "
              "scale (± shows the half-width; mos.json's ci95_low and ci95_high the clipped ends)."]
    lines += [f"{note}." if not note.endswith(".") else note for note in report.notes]
    lines += ["", "## Raters", "", "| rater | ratings | mean score | mean score of the reference | used |",
              "|---|---:|---:|---:|---|"]
    for r in report.raters:
        lines.append(f"| {_md(r.rater)} | {r.ratings} | {_num(r.mean)} | {_num(r.reference_mean)} | "
                     f"{'no (screened out)' if r.excluded else 'yes'} |")
    names = [m.system for m in report.systems]
    lines += ["", "## Clips (MOS, ratings)", "", "| clip | " + " | ".join(label(s) for s in names) + " |",
              "|---|" + "---:|" * len(names)]
    for clip, per in report.clips.items():
        cells = [f"{per[s].mos:.2f} ({per[s].ratings})" if s in per else "–" for s in names]
        lines.append(f"| {_md(clip)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """A name as one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def write_report(folder: Path, report: MosReport) -> tuple[Path, Path]:
    """STUDY/mos.md and STUDY/mos.json, atomically."""
    md, js = folder / "mos.md", folder / "mos.json"
    with atomic_path(md) as tmp:
        tmp.write_text("# MOS\n\n" + markdown(report), encoding="utf-8")
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md, js
