"""A Kaldi / ESPnet data folder's `utt2spk` (`utt-id speaker-id` per line) beside its wav.scp: the certain map from
each utterance (a segment's id where a `segments` file is there, else the wav.scp's id) to its speaker, which names
the held-out speakers' clips where it is there (hifigan.data.speakers). As Kaldi's validate_data_dir.sh asks, it
names every utterance of the list and no other."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hifigan.data.file_lists import entry_lines, text_lines
from hifigan.data.segments import Segment
from hifigan.errors import HifiganError

UTT2SPK = "utt2spk"  # its name beside the wav.scp, as Kaldi's data folders have it


def utt2spk_beside(scp: Path) -> Path | None:
    """The utt2spk file beside a wav.scp, or None where there is none."""
    path = scp.parent / UTT2SPK
    return path if os.path.lexists(path) else None


def clip_speakers(path: Path, scp: Path, utts: Mapping[str, tuple[int, Any]]
                  ) -> tuple[dict[Any, str], list[HifiganError], int]:
    """Each clip's speaker by the utt2spk file `path` (`utts`: the list's utterance id -> its line and clip, the
    segments' where `scp` has them), every problem a line of its own (not 2 fields, an utterance given twice, one
    the list lacks; an utterance of the list it lacks, named by the list's line), and how many entries it holds."""
    lines, problems = text_lines(path)
    if problems:
        return {}, problems, 1
    speakers: dict[str, str] = {}
    first: dict[str, int] = {}
    entries = entry_lines(lines)
    for number, line in entries:
        fields = line.split()
        seen = first.setdefault(fields[0], number)  # a bad line's utterance is said there, not as one it lacks
        if len(fields) != 2:
            problem = f"{len(fields)} fields, expected 2: 'utt-id speaker-id'"
        elif seen != number:
            problem = f"utterance id {fields[0]!r} is on line {seen} too (give each utterance one speaker)"
        elif fields[0] not in utts:
            problem = (f"utterance id {fields[0]!r} is not in {_listed_in(scp, utts)} (Kaldi's validate_data_dir.sh "
                       "refuses it too; utils/fix_data_dir.sh drops it)")
        else:
            speakers[fields[0]] = fields[1]
            continue
        problems.append(HifiganError(path, f"line {number}: {problem}"))
    for utt, (number, clip) in utts.items():
        if utt not in first:
            problems.append(HifiganError(clip.source if isinstance(clip, Segment) else scp,
                                         f"line {number}: utterance id {utt!r} has no speaker in {path} (Kaldi's "
                                         "validate_data_dir.sh refuses it too; utils/fix_data_dir.sh drops it)"))
    if not entries and not problems:
        problems.append(HifiganError(path, "utt2spk file holds no entries"))
    return {clip: speakers[utt] for utt, (_, clip) in utts.items() if utt in speakers}, problems, max(len(entries), 1)


def _listed_in(scp: Path, utts: Mapping[str, tuple[int, Any]]) -> Path:
    """The file that lists the utterances: the segments file where the clips are its segments, else the wav.scp."""
    return next((c.source for _, c in utts.values() if isinstance(c, Segment)), scp)
