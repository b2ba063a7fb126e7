"""A Kaldi / ESPnet data folder's `utt2spk` (`utt-id speaker-id` per line) beside its wav.scp, or where it has none
its `spk2utt` (`speaker-id utt-id utt-id ...`): the certain map from each utterance (a segment's id where a
`segments` file is there, else the wav.scp's id) to its speaker, which names the held-out speakers' clips where it is
there (hifigan.data.speakers). As Kaldi's validate_data_dir.sh asks, it names every utterance of the list and no
other."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hifigan.data.file_lists import entry_lines, text_lines
from hifigan.data.segments import Segment
from hifigan.errors import HifiganError

UTT2SPK = "utt2spk"  # its name beside the wav.scp, as Kaldi's data folders have it
SPK2UTT = "spk2utt"  # Kaldi makes it from utt2spk (utils/utt2spk_to_spk2utt.pl): read only where utt2spk is not there


def utt2spk_beside(scp: Path) -> Path | None:
    """The file beside a wav.scp that names its utterances' speakers: utt2spk, else spk2utt, else None."""
    return next((path for name in (UTT2SPK, SPK2UTT) if os.path.lexists(path := scp.parent / name)), None)


def clip_speakers(path: Path, scp: Path, utts: Mapping[str, tuple[int, Any]]
                  ) -> tuple[dict[Any, str], list[HifiganError], int]:
    """Each clip's speaker by the utt2spk or spk2utt file `path` (`utts`: the list's utterance id -> its line and
    clip, the segments' where `scp` has them), every problem a line of its own (too few fields, an utterance given
    twice, one the list lacks; an utterance of the list it lacks, named by the list's line), and how many entries it
    holds."""
    lines, problems = text_lines(path)
    if problems:
        return {}, problems, 1
    speakers: dict[str, str] = {}
    first: dict[str, int] = {}
    entries = entry_lines(lines)
    for number, pairs, problem in _pairs(entries, path.name == SPK2UTT):
        for utt, speaker in pairs:
            seen = first.setdefault(utt, number)  # a bad line's utterance is said there, not as one it lacks
            if problem:
                continue
            if utt in speakers or seen != number:
                where = f"twice on line {number}" if seen == number else f"on line {seen} too"
                problems.append(HifiganError(path, f"line {number}: utterance id {utt!r} is {where} (give each "
                                                   "utterance one speaker)"))
            elif utt not in utts:
                problems.append(HifiganError(path, f"line {number}: utterance id {utt!r} is not in "
                                                   f"{_listed_in(scp, utts)} (Kaldi's validate_data_dir.sh refuses it "
                                                   "too; utils/fix_data_dir.sh drops it)"))
            else:
                speakers[utt] = speaker
        if problem:
            problems.append(HifiganError(path, f"line {number}: {problem}"))
    for utt, (number, clip) in utts.items():
        if utt not in first:
            problems.append(HifiganError(clip.source if isinstance(clip, Segment) else scp,
                                         f"line {number}: utterance id {utt!r} has no speaker in {path} (Kaldi's "
                                         "validate_data_dir.sh refuses it too; utils/fix_data_dir.sh drops it)"))
    if not entries and not problems:
        problems.append(HifiganError(path, f"{path.name} file holds no entries"))
    return {clip: speakers[utt] for utt, (_, clip) in utts.items() if utt in speakers}, problems, max(len(entries), 1)


def _pairs(entries: Sequence[tuple[int, str]], by_speaker: bool
           ) -> list[tuple[int, list[tuple[str, str]], str]]:
    """Each line's (utterance, speaker) pairs and what is wrong with its shape, or "": a utt2spk line is one pair, a
    spk2utt line (`by_speaker`) a speaker's every utterance."""
    pairs = []
    for number, line in entries:
        fields = line.split()
        if by_speaker:
            shape = "" if len(fields) >= 2 else "1 field, expected 2 or more: 'speaker-id utt-id utt-id ...'"
            pairs.append((number, [(utt, fields[0]) for utt in fields[1:]], shape))
        else:
            shape = "" if len(fields) == 2 else f"{len(fields)} fields, expected 2: 'utt-id speaker-id'"
            pairs.append((number, [(fields[0], fields[-1])], shape))
    return pairs


def _listed_in(scp: Path, utts: Mapping[str, tuple[int, Any]]) -> Path:
    """The file that lists the utterances: the segments file where the clips are its segments, else the wav.scp."""
    return next((c.source for _, c in utts.values() if isinstance(c, Segment)), scp)
