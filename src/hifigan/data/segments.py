"""A Kaldi / ESPnet data folder's `segments` file (`utt-id rec-id start end`, in seconds) beside its wav.scp: then,
as Kaldi reads it, the wav.scp's ids are recordings and the utterances are the segments, each cut by sample from its
recording when it is read (the scan, a training item), never written out."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from hifigan.audio import audio_info, conform_audio, decode_audio, load_audio
from hifigan.errors import AudioError, HifiganError
from hifigan.messages.plural import count

SEGMENTS = "segments"  # its name beside the wav.scp, as Kaldi's data folders have it
OVERSHOOT = 0.5  # seconds an end may run past its recording and be cut there (Kaldi's extract-segments allows it)
TO_END = -1.0  # an end of -1: to the recording's end (Kaldi)


@dataclass(frozen=True)
class Segment:
    """One utterance of a segments file: `recording` (its wav.scp path) from `start` to `end` seconds (TO_END: to its
    end), as `utt`; `source` and `line` name where it is written. Its name in errors is str(); it is no file itself:
    what reads audio reads `recording` (recording_of)."""

    recording: Path
    start: float
    end: float
    utt: str
    source: Path = field(compare=False)
    line: int = field(compare=False)

    @property
    def stem(self) -> str:
        """Its utterance id: what --input-mels finds its mel by (<utt-id>.npy, as ESPnet names an utterance's)."""
        return self.utt

    def __str__(self) -> str:
        end = "end" if self.end == TO_END else f"{self.end:g}"
        return f"{self.recording}[{self.utt} {self.start:g}-{end} s]"

    def __fspath__(self) -> str:  # what an error names it by (HifiganError takes os.fspath); no file is there
        return str(self)

    def span(self, rate: int, frames: int) -> tuple[int, int] | None:
        """Its samples [first, last) in a recording of `frames` at `rate`: each time x rate rounded to the nearest
        sample (a decimal time's float product lands just below a whole sample: 0.7 s x 22050 is 15434.999...);
        an end up to OVERSHOOT past the recording cut at its end. None where it starts at or past the end, or ends
        further past."""
        first = round(self.start * rate)
        last = frames if self.end == TO_END else round(self.end * rate)
        if frames < last <= frames + round(OVERSHOOT * rate):
            last = frames
        return (first, last) if first < last <= frames else None

    def past_end(self, rate: int, frames: int) -> HifiganError:
        """The error of a segment span() refuses, naming its line."""
        length = f"{frames / rate:g} s"
        if round(self.start * rate) >= frames:
            problem = f"starts at {self.start:g} s, at or past the end of its recording {self.recording} ({length})"
        else:
            problem = (f"ends at {self.end:g} s, past the end of its recording {self.recording} ({length}; up to "
                       f"{OVERSHOOT:g} s past is cut there, as Kaldi does)")
        return HifiganError(self.source, f"line {self.line}: {self.utt!r} {problem}")

    def __lt__(self, other: Any) -> bool:
        return _order(self) < _order(other) if isinstance(other, (Segment, PurePath)) else NotImplemented

    def __gt__(self, other: Any) -> bool:
        return _order(self) > _order(other) if isinstance(other, (Segment, PurePath)) else NotImplemented

    def __le__(self, other: Any) -> bool:
        return _order(self) <= _order(other) if isinstance(other, (Segment, PurePath)) else NotImplemented

    def __ge__(self, other: Any) -> bool:
        return _order(self) >= _order(other) if isinstance(other, (Segment, PurePath)) else NotImplemented


def _order(clip: Segment | PurePath) -> tuple:
    """Where a clip sorts: paths as Path sorts them, a recording's segments after it, by start."""
    return (clip.recording.parts, 1, clip.start, clip.utt) if isinstance(clip, Segment) else (clip.parts, 0, 0.0, "")


def recording_of(clip: Any) -> Any:
    """The file a clip's audio is read from: a segment's recording, else the clip itself (a path)."""
    return clip.recording if isinstance(clip, Segment) else clip


def clip_noun(clips: Iterable[object]) -> str:
    """What the lines about a corpus call its clips: 'segment' where they are a segments file's, else 'file'."""
    return "segment" if any(isinstance(c, Segment) for c in clips) else "file"


def segments_beside(scp: Path) -> Path | None:
    """The segments file beside a wav.scp, or None where there is none."""
    path = scp.parent / SEGMENTS
    return path if os.path.lexists(path) else None


def read_segments(path: Path, entries: Sequence[tuple[int, str]], recordings: Mapping[str, Path]
                  ) -> tuple[list[Segment], list[HifiganError], int]:
    """The segments of a segments file's `entries` (its numbered lines that are not blank: file_lists.entry_lines)
    whose recording ids are the wav.scp's (`recordings`: id -> path), every bad line a problem naming it (not 4
    fields, a time that is no number, an end not after its start, an unknown recording, an utterance id given
    before), and how many entries it holds."""
    segments: list[Segment] = []
    problems: list[HifiganError] = []
    utts: dict[str, int] = {}
    for number, line in entries:
        fields = line.split()
        problem = _problem(fields, recordings)
        if not problem and (first := utts.setdefault(fields[0], number)) != number:
            problem = f"utterance id {fields[0]!r} is on line {first} too (give each segment its own)"
        if problem:
            problems.append(HifiganError(path, f"line {number}: {problem}"))
            continue
        utt, rec, start, end = fields
        segments.append(Segment(recordings[rec], float(start), float(end), utt, path, number))
    if not segments and not problems:
        problems.append(HifiganError(path, "segments file holds no entries"))
    return segments, problems, max(len(entries), 1)


def _problem(fields: list[str], recordings: Mapping[str, Path]) -> str:
    """What is wrong with a segments line's fields, or ""."""
    if len(fields) != 4:
        return (f"{len(fields)} fields, expected 4: 'utt-id rec-id start end' (seconds; a channel field is not "
                "read: hifigan trains on mono recordings)")
    utt, rec, *times = fields
    try:
        start, end = (float(t) for t in times)
    except ValueError:
        return f"{utt!r}: the times {times[0]!r} {times[1]!r} are not both numbers (seconds)"
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
        return f"{utt!r}: the times {times[0]!r} {times[1]!r} are not seconds from the recording's start"
    if end <= start and end != TO_END:
        return f"{utt!r} ends at {end:g} s, not after its start {start:g} s (an end of -1: to the recording's end)"
    if rec not in recordings:
        return f"{utt!r} is of recording {rec!r}, which the wav.scp beside it does not list"
    return ""


def read_segment(clip: Segment) -> tuple[np.ndarray, int]:
    """A segment's samples as stored, [frames, channels], and its recording's rate: only its span is decoded."""
    info = audio_info(clip.recording)
    span = clip.span(info.samplerate, info.frames)
    if span is None:
        raise AudioError(clip, clip.past_end(info.samplerate, info.frames).problem)
    return decode_audio(clip.recording, *span)


def load_clip(clip: Any, rate: int, *, resample: bool, mix_to_mono: bool, cli: bool) -> np.ndarray:
    """A training or held-out clip's audio as the model takes it (hifigan.audio.load_audio): a file whole, a
    segment cut from its recording first."""
    if not isinstance(clip, Segment):
        return load_audio(clip, rate, resample=resample, mix_to_mono=mix_to_mono, cli=cli)
    stored, sr = read_segment(clip)
    return conform_audio(clip, stored, sr, rate, resample=resample, mix_to_mono=mix_to_mono, cli=cli)


def what_was_scanned(files: Sequence[Any]) -> str:
    """What a scan line counts: "8 files", or with segments "8 clips (6 segments of 2 recordings, from
    data/train/segments; 2 files)"."""
    segments = [f for f in files if isinstance(f, Segment)]
    if not segments:
        return count(len(files), "file")
    recordings = len({f.recording for f in segments})
    sources = ", ".join(dict.fromkeys(str(f.source) for f in segments))
    others = len(files) - len(segments)
    also = f"; {count(others, 'file')}" if others else ""
    return (f"{count(len(files), 'clip')} ({count(len(segments), 'segment')} of {count(recordings, 'recording')}, "
            f"from {sources}{also})")
