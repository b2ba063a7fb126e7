"""Several systems against the same recordings: `NAME=DIR` arguments, one evaluation each, the page for all.

One system keeps `hifigan evaluate`'s outputs (OUT.json, OUT.png); several write OUT-NAME.json / .png each.
The HTML page is OUT.html either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError, bad_inputs, in_path_order
from hifigan.plural import count

if TYPE_CHECKING:
    from hifigan.evaluation.pairing import Pair
    from hifigan.evaluation.results import Report

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def parse_system(text: str) -> tuple[str, Path]:
    """`NAME=DIR`, or a bare `DIR` named after its last component."""
    name, sep, folder = text.partition("=")
    if not sep or not NAME.fullmatch(name):
        name, folder = Path(text).resolve().name if text else "", text
    if not NAME.fullmatch(name):
        raise HifiganError(None, f"system {text!r}: a name (before '=') is 1-64 letters, digits, '_', '.', '+' "
                           "or '-', starting with a letter or digit")
    return name, Path(folder)


def parse_systems(texts: Iterable[str], reserved: Sequence[str] = ()) -> dict[str, Path]:
    """Several `NAME=DIR`: names must be distinct and not one of `reserved`."""
    systems: dict[str, Path] = {}
    for text in texts:
        name, folder = parse_system(text)
        if name in reserved:
            raise HifiganError(folder, f"the system name {name!r} is reserved; give another (NAME=DIR)")
        if name in systems:
            raise HifiganError(folder, f"two systems named {name!r} ({systems[name]} and {folder}); name them "
                               "NAME=DIR")
        systems[name] = folder
    return systems


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
    generated: dict[str, Path],
    config: HifiganConfig,
    out: str | os.PathLike | None,
    *,
    html: bool = False,
    html_audio: str = "embed",
    title: str | None = None,
    found: Sequence[HifiganError] = (),
    **options: Any,
) -> tuple[dict[str, Report], Path | None]:
    """Pair every system with the recordings and check every file (all before any is scored or anything is written),
    evaluate each, write the page. `found`: the recordings' problems met in choosing the config
    (hifigan.evaluation.rate_config.metric_config), named with the others."""
    from hifigan.evaluation.evaluate import evaluate_pairs
    from hifigan.evaluation.pairing import match_stems
    from hifigan.evaluation.report.page import AUDIO_MODES, write_page

    if html and out is None:
        raise HifiganError(None, "--html needs --out (the page is written beside the JSON report)")
    if html_audio not in AUDIO_MODES:
        raise HifiganError(None, f"--html-audio must be one of {', '.join(AUDIO_MODES)}, got {html_audio!r}")
    matched = {name: match_stems(reference, folder) for name, folder in generated.items()}
    pairs = {name: found[0] for name, found in matched.items()}
    check_pairs([pair for system in pairs.values() for pair in system], config,
                resample=options.get("resample", False), mix_to_mono=options.get("mix_to_mono", False),
                max_shift=options.get("max_shift", 0), metrics=options.get("metrics"),
                found=[*found, *(e for system in matched.values() for e in system[1])],
                files=sum(system[2] for system in matched.values()))
    outs, page = output_paths(out, list(generated)) if out is not None else ({}, None)
    reports = {name: evaluate_pairs(p, config, outs.get(name), **options) for name, p in pairs.items()}
    if not html:
        return reports, None
    title = title or f"hifigan evaluation: {', '.join(generated)} against {Path(reference).name or reference}"
    write_page(page, reports, config, title=title, audio=html_audio,
               resample=options.get("resample", False), mix_to_mono=options.get("mix_to_mono", False))
    return reports, page


def check_pairs(pairs: Sequence[Pair], config: HifiganConfig, *, resample: bool = False, mix_to_mono: bool = False,
                max_shift: int = 0, found: Sequence[HifiganError] = (), files: int = 0,
                metrics: Iterable[str] | None = None) -> None:
    """Read every file of every pair as the evaluation will (format, truncation, NaN; lengths within one hop, long
    enough for the metrics asked for (`metrics`, None: all) once a delay of up to `max_shift` is cut) before
    anything is scored or written; every bad file, and every problem `found` before (a file without a partner, a
    recording's header or rate; such a file is not read again), of `files` files, is named in one line."""
    from hifigan.audio import load_audio
    from hifigan.evaluation.metrics import min_samples
    from hifigan.evaluation.pairing import check_max_shift, match_lengths

    check_max_shift(max_shift, config.hop_size)  # an option out of range is named, not blamed on every file
    problems: list[HifiganError] = list(found)
    needs = min_samples(config, metrics)
    # a recording shared by several systems is read once; -1: bad (named already, or now)
    loaded: dict[Path, int] = {Path(e.path): -1 for e in found if e.path is not None}
    for _, ref_path, gen_path in pairs:
        lengths = []
        for path in (ref_path, gen_path):
            if path not in loaded:
                try:
                    loaded[path] = len(load_audio(path, config.sampling_rate, resample=resample,
                                                  mix_to_mono=mix_to_mono))
                except HifiganError as e:
                    problems.append(e)
                    loaded[path] = -1
            lengths.append(loaded[path])
        if min(lengths) >= 0:
            try:
                source = f"{gen_path} (vs {ref_path})"
                match_lengths(np.empty(lengths[0]), np.empty(lengths[1]), config.hop_size, source)
            except HifiganError as e:
                problems.append(e)
                continue
            if min(lengths) - max_shift < needs:
                cut = f" less --max-shift {max_shift}" if max_shift else ""
                problems.append(HifiganError(source, f"too short: {count(min(lengths), 'sample')}{cut}, the "
                                                     f"metrics need at least {needs}"))
    if problems:  # in path order, whichever check found them
        raise bad_inputs(in_path_order(problems), max(len(loaded), files))
