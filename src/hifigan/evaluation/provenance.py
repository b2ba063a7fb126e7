"""What an evaluation report records so that a reader can reproduce its numbers besides the metrics' own settings
(evaluate.report_settings): how the files were stored before they were read at the config's rate (which were
resampled, from which rate, which mixed down to mono: `read_record`, evaluate's and the demo's), and the versions of
the packages that computed them."""

from __future__ import annotations

import importlib.metadata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hifigan.evaluation.results import FileResult

# Whatever reads, resamples or scores the audio: a new version of any may move a number.
PACKAGES = ("torch", "numpy", "scipy", "librosa", "soxr", "soundfile", "pesq", "pystoi")
RESAMPLER = "soxr HQ"  # hifigan.audio.resample_audio: --resample's, and PESQ's to its band's rate
SIDES = ("reference", "generated")


def package_versions() -> dict[str, str | None]:
    """Our version and each of PACKAGES' as installed (None: not installed, e.g. pesq without the 'eval' extra)."""
    import hifigan

    versions: dict[str, str | None] = {"hifigan": hifigan.__version__}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def read_record(files: Sequence[FileResult], sampling_rate: int, *, resample: bool, mix_to_mono: bool
                ) -> dict[str, Any]:
    """How a report's files were read at `sampling_rate`, as its settings record it: whether they were read with
    --resample and --mix-to-mono, the resampler, and each side's stored formats (`input_formats`)."""
    return {"resample": resample, "resampler": RESAMPLER, "mix_to_mono": mix_to_mono,
            "inputs": input_formats(files, sampling_rate)}


def input_formats(files: Sequence[FileResult], sampling_rate: int) -> dict[str, dict[str, Any]]:
    """Per side (the recordings, the generated files) of the pairs: how many files, how many at each stored rate and
    of each channel count, how many were resampled from each rate other than `sampling_rate`, and how many were mixed
    down to mono. Keys are strings (JSON's); files without formats (scored from memory) are not counted."""
    summary = {}
    for side in SIDES:
        stored = [f.formats[side] for f in files if f.formats is not None]
        rates = Counter(fmt["sampling_rate"] for fmt in stored)
        channels = Counter(fmt["channels"] for fmt in stored)
        summary[side] = {
            "files": len(stored),
            "sampling_rates": {str(rate): n for rate, n in sorted(rates.items())},
            "channels": {str(c): n for c, n in sorted(channels.items())},
            "resampled_from": {str(rate): n for rate, n in sorted(rates.items()) if rate != sampling_rate},
            "mixed_to_mono": sum(n for c, n in channels.items() if c != 1),
        }
    return summary
