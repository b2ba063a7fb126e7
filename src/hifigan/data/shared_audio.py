"""Training clips that hold some of a validation clip's audio without being that clip: a Kaldi segment of a recording
the validation list holds whole (or the reverse), or a segment overlapping a validation segment of the same
recording. Corpus.split holds them out with the validation clips, as it holds out a clip in both lists, so that no
validation audio is trained on."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from pathlib import Path

from hifigan.data.segments import TO_END, Segment
from hifigan.messages import plural
from hifigan.messages.plural import first_few


def sharing_audio(train: Sequence[Path], train_keys: Sequence[Hashable], valid: Sequence[Path],
                  valid_keys: Sequence[Hashable]) -> list[bool]:
    """For each training clip, whether some of its audio is a validation clip's: the same recording (`*_keys`: each
    clip's real_files.identities, a segment's holding its recording's) and spans that overlap by more than a point
    (a file spans its whole recording, a segment to TO_END up to the recording's end)."""
    spans: dict[Hashable, list[tuple[float, float]]] = {}
    for clip, key in zip(valid, valid_keys, strict=True):
        spans.setdefault(_recording(clip, key), []).append(_span(clip))
    return [any(_overlap(_span(clip), span) for span in spans.get(_recording(clip, key), ()))
            for clip, key in zip(train, train_keys, strict=True)]


def clip_ids(clips: Sequence[Path], shown: int = 3) -> str:
    """The first `shown` clips by the name a list gives them (a segment's utterance id, a file's path), ', ...'
    after where there are more."""
    return first_few([clip.utt if isinstance(clip, Segment) else str(clip) for clip in clips[: shown + 1]], shown)


def held_with_them(counted: str, overlapping: Sequence[Path]) -> str:
    """The validation line's clause for the training clips held out for holding held-out audio: `counted` says how
    many of what (`2 training segments`), then which."""
    are = plural.agree(len(overlapping), "holds", "hold")
    return f"{counted} {are} some of their audio ({clip_ids(overlapping)}), held out and not trained on"


def _recording(clip: Path, key: Hashable) -> Hashable:
    """The identity of the recording a clip's audio is read from: a segment's key is (recording's, start, end)."""
    return key[0] if isinstance(clip, Segment) else key  # type: ignore[index]


def _span(clip: Path) -> tuple[float, float]:
    """A clip's time span within its recording, in seconds."""
    if not isinstance(clip, Segment):
        return 0.0, math.inf
    return clip.start, math.inf if clip.end == TO_END else clip.end


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return max(a[0], b[0]) < min(a[1], b[1])
