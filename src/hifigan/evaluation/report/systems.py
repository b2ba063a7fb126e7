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

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError

if TYPE_CHECKING:
    from hifigan.evaluation.pairing import Pair
    from hifigan.evaluation.results import Report

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")  # a part of a file name on every system, as it is
NAME_RULE = "1-64 ASCII letters, digits, '_', '.', '+' or '-', starting with a letter or digit"
REFERENCE = "reference"  # the recordings' name beside the systems: the page's first card, a study's hidden reference


def parse_system(text: str) -> tuple[str, Path]:
    """`NAME=DIR`, or a bare `DIR` named after its last component; a name that cannot be used, or a NAME= without
    its folder, is an error saying why."""
    name, sep, folder = text.partition("=")
    if sep and not any(c in name for c in "/" + os.sep):  # NAME=DIR (a path before '=' is a folder's: `runs/a=b`)
        if not NAME.fullmatch(name):
            problem = f"{name!r} is not a system name" if name else "no name before '='"
            raise HifiganError(None, f"system {text!r}: {problem}: a name is {NAME_RULE} (NAME=DIR)")
        if not folder:  # Path("") is the working folder: `--system v1=$DIR` with DIR unset would score it
            raise HifiganError(None, f"system {text!r}: no folder after '=' (NAME=DIR)")
        return name, Path(folder)
    bare = Path(text).resolve().name if text else ""
    if not NAME.fullmatch(bare):
        raise HifiganError(None, f"system {text!r}: named after its folder, {bare!r} is not a system name "
                                 f"({NAME_RULE}): give NAME=DIR")
    return bare, Path(text)


def parse_systems(texts: Iterable[str]) -> dict[str, Path]:
    """Several `NAME=DIR`: names must differ, in more than case (each names its own report files, and macOS and
    Windows do not tell names apart by case), and none may be the recordings' (REFERENCE)."""
    systems: dict[str, Path] = {}
    for text in texts:
        name, folder = parse_system(text)
        if name == REFERENCE:
            raise HifiganError(folder, f"the system name {REFERENCE!r} is reserved for the recordings; give another "
                               "(NAME=DIR)")
        same = next((other for other in systems if other.lower() == name.lower()), None)
        if same == name:
            raise HifiganError(folder, f"two systems named {name!r} ({systems[name]} and {folder}); name them "
                               "NAME=DIR")
        if same is not None:
            raise HifiganError(folder, f"systems named {same!r} ({systems[same]}) and {name!r} differ only in case, "
                               "and their report files would be one file on macOS or Windows; name them apart")
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
