"""The held-out files of a run whose checkpoint does not list them (made before a10f49b stored them), drawn again as
the version that made it drew them, so that a resumed run validates on, and trains without, the same files."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hifigan.data.clip_names import file_key
from hifigan.data.corpus import Corpus
from hifigan.data.held_out_content import follow_renames
from hifigan.data.held_out_draw import DEFAULT_FRACTION, choose_validation


def shuffled_held_out(files: list[Path], count: int | None, fraction: float | None, seed: int) -> list[Path]:
    """The rule before the seeded path hash (767a75d): `count` (else round(fraction x n), default 5%, at least 1)
    of the files sorted by path (Path order: a/ before a-b/), the first of a random.Random(seed) shuffle of their
    indices."""
    files = sorted(files)
    if count is None:
        count = max(1, round((DEFAULT_FRACTION if fraction is None else fraction) * len(files)))
    order = list(range(len(files)))
    random.Random(seed).shuffle(order)
    return [files[i] for i in sorted(order[:count])]


def absolute_keys_relative(keys: list[str], contents: Mapping[str, str], root: Path) -> tuple[list[str], dict]:
    """The stored held-out keys (and their contents' keys) as file_key gives them today: a file list's absolute path
    under its root typed relative was kept absolute (before this rule), which the resume's absolute root never gives."""
    now = {k: file_key(Path(k), root) if os.path.isabs(k) else k for k in [*keys, *contents]}
    return [now[k] for k in keys], {now[k]: v for k, v in contents.items()}


def earlier_held_out(stored: Mapping[str, Any], corpus: Corpus, seed: int) -> list[str] | None:
    """The held-out keys of a resumed run's stored data: its own list (a file renamed since under its new name:
    follow_renames); else (an older checkpoint) the files its version drew: by shuffle if it stored no valid_cap
    (before 767a75d), else by today's path hash among all files (before ebb12eb, unusable ones too; each file alone,
    VCTK's _mic1 and _mic2 too). None where nothing was drawn (a run with --valid-list, or a new run)."""
    if not stored or "held_out" in stored:
        keys = stored.get("held_out") if stored else None
        if keys is None:
            return None
        keys, contents = absolute_keys_relative(keys, stored.get("held_out_content") or {}, corpus.root())
        return follow_renames(keys, contents, corpus)
    if stored.get("valid_list") is not None:
        return None
    files = corpus.listed()
    if "valid_cap" not in stored:
        return corpus.keys(shuffled_held_out(files, stored.get("valid_count"), stored.get("valid_fraction"), seed))
    held = choose_validation(files, count=stored.get("valid_count"), fraction=stored.get("valid_fraction"),
                             cap=stored.get("valid_cap"), seed=seed, root=corpus.root(), cli=corpus.cli,
                             utterances=False)
    return corpus.keys(held.valid)
