"""A dataset's clips held as a few flat arrays, not one Python object per clip: DataLoader workers forked from the
training process share its memory page by page, and reading a clip of a list writes its objects' reference counts, so
over an epoch each worker copied the whole list (93 MB each at 375 000 clips); reading an array writes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from hifigan.data.clip_scan import Clip
from hifigan.data.segments import Segment, recording_of


class PackedStrings:
    """Strings in one byte array (os.fsencode: a name that is not UTF-8 comes back as it was) and their ends."""

    def __init__(self, values: Sequence[str]) -> None:
        encoded = [os.fsencode(v) for v in values]
        self.ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        self.data = np.frombuffer(b"".join(encoded), dtype=np.uint8)

    def __getitem__(self, i: int) -> str:
        start = int(self.ends[i - 1]) if i else 0
        return os.fsdecode(self.data[start : int(self.ends[i])].tobytes())


class PackedSegments:
    """The segments among the clips (hifigan.data.segments.Segment), a field per array; a plain file's row unused."""

    def __init__(self, paths: Sequence[Path | Segment]) -> None:
        segments = [p if isinstance(p, Segment) else None for p in paths]
        self.is_segment = np.array([s is not None for s in segments], dtype=bool)
        self.start = np.array([0.0 if s is None else s.start for s in segments], dtype=np.float64)
        self.end = np.array([0.0 if s is None else s.end for s in segments], dtype=np.float64)
        self.line = np.array([0 if s is None else s.line for s in segments], dtype=np.int64)
        self.utt = PackedStrings(["" if s is None else s.utt for s in segments])
        self.sources = list(dict.fromkeys(s.source for s in segments if s is not None))  # a file or two: its segments
        where = {source: i for i, source in enumerate(self.sources)}
        self.source = np.array([0 if s is None else where[s.source] for s in segments], dtype=np.int32)

    def segment(self, i: int, recording: Path) -> Segment:
        return Segment(recording, float(self.start[i]), float(self.end[i]), self.utt[i],
                       self.sources[int(self.source[i])], int(self.line[i]))


class PackedClips(Sequence[Clip]):
    """`clips` (scan.Clip) as arrays: clips[i] builds clip i again, equal to the one given, each time it is read."""

    def __init__(self, clips: Sequence[Clip]) -> None:
        self.num_samples = np.array([c.num_samples for c in clips], dtype=np.int64)
        self.files = PackedStrings([str(recording_of(c.path)) for c in clips])
        has_segments = any(isinstance(c.path, Segment) for c in clips)
        self.segments = PackedSegments([c.path for c in clips]) if has_segments else None
        self.has_mels = any(c.mel_path is not None for c in clips)
        self.mels = PackedStrings(["" if c.mel_path is None else str(c.mel_path) for c in clips]) \
            if self.has_mels else None

    def __len__(self) -> int:
        return len(self.num_samples)

    @overload
    def __getitem__(self, i: int) -> Clip: ...

    @overload
    def __getitem__(self, i: slice) -> list[Clip]: ...

    def __getitem__(self, i: int | slice) -> Clip | list[Clip]:
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        i = range(len(self))[i]  # a negative index counts from the end; one out of range is an IndexError
        path: Path | Segment = Path(self.files[i])
        if self.segments is not None and self.segments.is_segment[i]:
            path = self.segments.segment(i, path)
        mel = self.mels[i] if self.mels is not None else ""
        return Clip(path, int(self.num_samples[i]), Path(mel) if mel else None)

    def __iter__(self) -> Iterator[Clip]:
        return (self[i] for i in range(len(self)))
