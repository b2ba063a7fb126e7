"""A clip's name within its corpus: the key the held-out draw, the resume digest and the checks across lists use,
unchanged when the corpus moves."""

from __future__ import annotations

import os
from pathlib import Path

from hifigan.data.segments import Segment
from hifigan.files.paths import relative_name


def file_key(path: Path, root: Path | None) -> str:
    """A file's name within its corpus: its path relative to `root` (unchanged when the corpus moves). A list's
    absolute path under a root typed relative (or the reverse) is compared as both absolute: a resume's root is.
    A segment's is its utterance id, the name Kaldi's and ESPnet's other files give it."""
    if isinstance(path, Segment):
        return path.utt
    if root is not None and path.is_absolute() != root.is_absolute():
        path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return path.as_posix() if root is None else relative_name(path, root)
