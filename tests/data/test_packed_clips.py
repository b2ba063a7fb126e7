"""A dataset's clips as flat arrays (hifigan.data.packed_clips): each clip read back equal to the one given, and no
Python object per clip for a forked DataLoader worker to copy by reading it."""

from __future__ import annotations

import gc
import os
import types
from pathlib import Path

import numpy as np
import pytest

from hifigan.data.clip_scan import Clip
from hifigan.data.dataset import VocoderDataset
from hifigan.data.packed_clips import PackedClips
from hifigan.data.segments import TO_END, Segment
from tests.support.tiny import tiny_config

NOT_UTF8 = os.fsdecode(b"spk1/caf\xe9.wav")  # a Latin-1 name on a UTF-8 system: a lone surrogate in Python


def mixed_clips() -> list[Clip]:
    """Plain files, a name that is not UTF-8, segments of two segments files, teacher-forced mels and none."""
    seg = Path("data/train/segments")
    return [
        Clip(Path("/corpus/spk0/a.wav"), 8000),
        Clip(Path(NOT_UTF8), 1, Path("/mels/caf.npy")),
        Clip(Segment(Path("rec/r1.flac"), 0.25, 1.5, "utt-1", seg, 3), 27563),
        Clip(Path("relative/b.wav"), 2**40, None),
        Clip(Segment(Path("/abs/r2.wav"), 1.0, TO_END, "utt-2", Path("other/segments"), 9), 5, Path("m/utt-2.npy")),
        Clip(Path("é/ü.wav"), 12),
    ]


def test_every_clip_reads_back_equal_to_the_one_given():
    clips = mixed_clips()
    packed = PackedClips(clips)
    assert len(packed) == len(clips)
    assert [packed[i] for i in range(len(clips))] == clips and list(packed) == clips
    assert packed[-1] == clips[-1] and packed[-len(clips)] == clips[0]
    assert packed[1:5:2] == clips[1:5:2] and packed[::-1] == clips[::-1] and packed[4:99] == clips[4:]
    assert isinstance(packed[2].path, Segment) and packed[2].path.source == Path("data/train/segments")
    assert packed[4].path.source == Path("other/segments") and packed[4].path.line == 9
    assert os.fsencode(packed[1].path) == b"spk1/caf\xe9.wav" and packed[3].num_samples == 2**40
    with pytest.raises(IndexError):
        packed[len(clips)]
    assert packed.has_mels and not PackedClips(clips[:1]).has_mels and len(PackedClips([])) == 0


def reachable(root: object) -> int:
    """How many objects `root` holds, through containers and instances (not through types, modules or functions,
    which every dataset shares)."""
    shared = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, np.dtype)
    seen, todo = {id(root)}, [root]
    while todo:
        for ref in gc.get_referents(todo.pop()):
            if id(ref) not in seen and not isinstance(ref, shared):
                seen.add(id(ref))
                todo.append(ref)
    return len(seen)


def test_a_dataset_holds_as_many_objects_for_ten_clips_as_for_ten_thousand():
    """A list of Clip objects held ~4 objects a clip (the Clip, its Path, the Path's parts and string): each a
    reference count that a worker's read writes, copying its page into the worker."""
    config = tiny_config()

    def dataset(n: int) -> VocoderDataset:
        return VocoderDataset([Clip(Path(f"corpus/spk{i % 7}/u{i:05d}.wav"), 1000 + i) for i in range(n)], config,
                              train=True, cli=True)

    small, large = dataset(10), dataset(10_000)
    assert reachable(small.clips) == reachable(large.clips)
    assert large.clips[9_999] == Clip(Path("corpus/spk3/u09999.wav"), 10_999)
    assert large.clips.files.data.nbytes == sum(len(f"corpus/spk{i % 7}/u{i:05d}.wav") for i in range(10_000))
