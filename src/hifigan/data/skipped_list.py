"""Every file a scan skipped, with why, as a plain TSV in the run folder: at 100k clips the warnings show a few
names, and the full list would otherwise be only inside the scan cache."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from hifigan.data.clip_scan import ScanReport
from hifigan.errors import HifiganError
from hifigan.files.atomic import atomic_path
from hifigan.files.output_folders import prepare_output_dir

SKIPPED_LIST = "skipped.tsv"  # in the run folder


def skipped_rows(reports: Iterable[ScanReport]) -> list[tuple[Path, str]]:
    """(path, reason) of every file the ScanReports skipped: unreadable or empty, too short, and silence only."""
    rows = []
    for report in reports:
        rows += report.skipped
        rows += report.short
        rows += [(path, "silence only (never reaches -60 dBFS)") for path in report.silent]
    return rows


def write_skipped(target: Path, rows: list[tuple[Path, str]]) -> None:
    """`target` rewritten (atomically) as "path<TAB>reason" lines under a header, or removed when nothing was
    skipped. Each path absolute (the list outlives the folder it was typed in), its own bytes written (os.fsencode),
    a tab or line break in it as \\t or \\n. A failure is a warning: the list only reports."""
    try:
        if not rows:
            target.unlink(missing_ok=True)
            return
        prepare_output_dir(target.parent)
        lines = [b"path\treason"] + [_field(os.fsencode(os.path.abspath(path))) + b"\t"
                                     + _field(why.encode("utf-8", "surrogateescape")) for path, why in rows]
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"\n".join(lines) + b"\n")
    except (OSError, HifiganError) as e:
        warnings.warn(f"cannot write the list of skipped files {target} ({e})", RuntimeWarning, stacklevel=2)


def _field(text: bytes) -> bytes:
    return text.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n")
