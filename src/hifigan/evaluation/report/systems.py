"""Several systems against the same recordings (their names: report.names): one evaluation each, the page for all.

One system keeps `hifigan evaluate`'s outputs (OUT.json, OUT.png); several write OUT-NAME.json / .png each.
The HTML page is OUT.html either way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError

if TYPE_CHECKING:
    from hifigan.evaluation.pairing import Pair
    from hifigan.evaluation.results import Report

def output_paths(out: str | os.PathLike, names: Sequence[str], create: bool = True) -> tuple[dict[str, Path], Path]:
    """Per system the `out` value for `evaluate_pairs`, and the page's path (the output folder is created unless not
    `create`)."""
    from hifigan.evaluation.output import report_paths

    json_path, _ = report_paths(out, create)
    if len(names) == 1:
        return {names[0]: json_path}, json_path.with_suffix(".html")
    return ({name: json_path.with_name(f"{json_path.stem}-{name}.json") for name in names},
            json_path.with_suffix(".html"))


def evaluate_systems(
    reference: Path,
    pairs: dict[str, list[Pair]],
    config: HifiganConfig,
    out: str | os.PathLike | None,
    *,
    html: bool = False,
    html_audio: str = "embed",
    title: str | None = None,
    **options: Any,
) -> tuple[dict[str, Report], Path | None]:
    """Evaluate every system's pairs in one pass (checked first: hifigan.evaluation.inputs.check_inputs;
    hifigan.evaluation.evaluate.evaluate_each), write the page."""
    from hifigan.evaluation.evaluate import evaluate_each
    from hifigan.evaluation.report.page import write_page

    check_page_options(out, html, html_audio)
    outs, page = output_paths(out, list(pairs)) if out is not None else ({}, None)
    reports = evaluate_each(pairs, config, outs, **options)
    if not html:
        return reports, None
    title = title or f"hifigan evaluation: {', '.join(pairs)} against {Path(reference).name or reference}"
    write_page(page, reports, config, title=title, audio=html_audio, resample=options.get("resample", False),
               mix_to_mono=options.get("mix_to_mono", False), cli=options.get("cli", False))
    return reports, page


def check_page_options(out: str | os.PathLike | None, html: bool, html_audio: str) -> None:
    """The page's options: --html needs --out, --html-audio one of the page's modes."""
    from hifigan.evaluation.report.page import AUDIO_MODES

    if html and out is None:
        raise HifiganError(None, "--html needs --out (the page is written beside the JSON report)")
    if html_audio not in AUDIO_MODES:
        raise HifiganError(None, f"--html-audio must be one of {', '.join(AUDIO_MODES)}, got {html_audio!r}")
