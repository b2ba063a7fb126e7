"""The up-front scan as the data tests use it: its report, with its warnings (tested on their own) silenced."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from hifigan.config import HifiganConfig
from hifigan.data.clip_scan import ScanReport, scan_clips
from tests.support.tiny import tiny_config


def quiet_scan(files: Sequence[Path], config: HifiganConfig | None = None, **options) -> ScanReport:
    """scan_clips of `files` under `config` (default: the tiny config) and scan_clips' keyword `options`, its
    messages as the command's (`cli` True)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scan_clips(files, config if config is not None else tiny_config(), cli=True, **options)
