"""Several recordings of one utterance, known for certain by name, so that the held-out draw puts them on one side:
VCTK 0.92 records each utterance with two microphones, `p225_001_mic1.flac` and `p225_001_mic2.flac` in one folder.
Held out apart, validation would have heard that very take of the sentence and speaker in training."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

MIC = re.compile(r"(.+)_mic[12]")  # VCTK 0.92's two microphones; no other suffix is known to mark one take


def utterance_key(key: str) -> str:
    """The key a file is drawn by (clip_names.file_key's): a VCTK `<utterance>_mic1`/`_mic2` file's is its folder and
    utterance, whatever its microphone or suffix, so both draw one number; any other file's is its own key."""
    path = PurePosixPath(key)
    if (take := MIC.fullmatch(path.stem)) is None:
        return key
    return f"{path.parent / take.group(1)}\0mic"  # \0: no file's own key, so never another file's utterance
