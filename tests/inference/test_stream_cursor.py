"""StreamCursor's bookkeeping, frame by frame: a window once exactly `min_frames` frames have their look-ahead."""

import pytest
import torch

from hifigan.inference.streaming import ReceptiveField, StreamCursor


def test_one_frame_chunks_give_windows_of_exactly_min_frames_once_their_look_ahead_arrives():
    field, min_frames, total = ReceptiveField(left=2, right=3), 4, 15
    cursor = StreamCursor(field, num_mels=2, min_frames=min_frames, dtype=torch.float64)
    mel = torch.arange(2 * total, dtype=torch.float64).reshape(2, total)
    handed = []
    for i in range(total):
        window = cursor.push(mel[:, i : i + 1])
        if window is None:  # frames [0, i + 1) pushed: i + 1 - right have their look-ahead, fewer than 4 not out
            assert cursor.ready == max(0, i + 1 - field.right - sum(b - a for _, a, b in handed)) < min_frames
        else:
            handed.append(window)
            assert i + 1 - field.right == sum(b - a for _, a, b in handed)  # handed out as soon as there are 4
    # frames 0-3 at the 7th push, 4-7 at the 11th, 8-11 at the 15th: each exactly min_frames, none empty
    assert [b - a for _, a, b in handed] == [min_frames] * 3
    last = cursor.finish()
    assert last is not None and last[2] - last[1] == field.right
    # each window carries `left` frames of past context before its own frames (the buffer keeps no more)
    starts = [int(w[0, 0]) for w, _, _ in (*handed, last)]
    assert starts == [0, 4 - field.left, 8 - field.left, 12 - field.left]


def test_a_chunk_after_finish_is_refused_and_a_second_finish_gives_nothing():
    """finish() vocodes the last frames without look-ahead (the mel's end); frames pushed after it were streamed on
    as if it had not ended, their context's audio already gone out edge-padded: not the one-shot audio of the whole.
    Now a RuntimeError that changes nothing; a second finish() is None (the server's end-of-stream signal)."""
    cursor = StreamCursor(ReceptiveField(left=2, right=3), num_mels=2)
    mel = torch.arange(20.0).reshape(2, 10)
    assert cursor.push(mel[:, :6])[1:] == (0, 3)
    last = cursor.finish()
    assert last is not None and (last[2] - last[1], cursor.frames) == (3, 6)
    assert cursor.finish() is None
    for chunk in (mel[:, 6:], mel[:, :0]):
        with pytest.raises(RuntimeError, match=r"^mel chunk 1 came after the stream's finish\(\): start a new stream$"):
            cursor.push(chunk)
    assert (cursor.frames, cursor.chunks, cursor.ready, cursor.finish()) == (6, 1, 0, None)
