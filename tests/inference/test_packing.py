"""`Vocoder.batch`'s plan (hifigan.inference.packing): every wanted frame from exactly one pass position whose
window holds that frame's whole receptive field, or meets the mel's true end where the field is clipped; no
padding (the cost is the mels' frames plus edge windows); with buckets, passes of few shapes, padded only where no
wanted frame's field reaches."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.inference.packing import Buckets, pack, round_up
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.layers import ReceptiveField
from tests.support.tiny import tiny_config


def computed_frames(plan) -> int:
    """Mel frames a plan's passes compute, padding included: what it costs."""
    return sum(rows * frames for rows, frames in plan.shapes)


@st.composite
def batches(draw):
    left, right = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    lengths = draw(st.lists(st.integers(1, 40), min_size=0, max_size=7))
    keep = []
    for n in lengths:
        a = draw(st.integers(0, n))
        keep.append((a, draw(st.integers(a, n))))
    buckets = draw(st.sampled_from([None, Buckets(1, 1), Buckets(2, 2), Buckets(8, 2)]))
    return ReceptiveField(left, right), lengths, draw(st.sampled_from([None, keep])), buckets


def _source(plan, run: int, row: int, position: int):
    """(window, its first position in the row, whether it starts the pass's row, whether it ends it) at
    `position` (a window followed by padding does not end it)."""
    windows, at = plan.runs[run][row], 0
    for k, w in enumerate(windows):
        if at <= position < at + w.frames:
            return w, at, k == 0, at + w.frames == plan.shapes[run][1]
        at += w.frames
    raise AssertionError(f"position {position} is past row {row} of run {run}")


@settings(max_examples=400, deadline=None)
@given(batches())
def test_every_wanted_frame_comes_from_a_window_holding_its_receptive_field(case):
    field, lengths, keep, buckets = case
    plan = pack(lengths, field, keep, buckets)
    keep = keep or [(0, n) for n in lengths]
    edge = field.left + field.right
    for run, (rows, frames) in zip(plan.runs, plan.shapes):  # rows of one pass are stacked: padded to one width
        widths = {sum(w.frames for w in row) for row in run}
        assert rows >= len(run) and frames >= max(widths)
        if buckets is None:  # no padding
            assert widths == {frames} and rows == len(run)
        else:  # few shapes: a bucket's rows of a bucket's frames, or of an edge window's frames at most
            assert rows == buckets.rows(rows) and (frames <= edge or frames == buckets.frames(frames))
    for i, ((a, b), n) in enumerate(zip(keep, lengths)):
        frames = [f for p in plan.pieces[i] for f in range(p.start, p.stop)]
        assert frames == list(range(a, b))
        for p in plan.pieces[i]:
            for f in range(p.start, p.stop):
                w, at, first, last = _source(plan, p.run, p.row, p.offset + f - p.start)
                assert w.item == i and w.start + p.offset + f - p.start - at == f
                need_a, need_b = f - field.left, f + 1 + field.right
                assert w.start <= max(0, need_a) and min(n, need_b) <= w.stop
                if need_a < 0:  # the field is clipped at the mel's start: the pass must start there too
                    assert w.start == 0 and first
                if need_b > n:
                    assert w.stop == n and last
    wanted = [n for n, (a, b) in zip(lengths, keep) if b > a]
    if buckets is not None:
        return
    assert computed_frames(plan) <= sum(wanted) + 2 * edge * max(0, len(wanted) - 1)
    assert len(plan.runs) <= 2 + len(set(wanted))
    if len(wanted) > 1 and len(set(wanted)) == 1:  # one length: stacked rows, no edge windows
        assert computed_frames(plan) == sum(wanted) and len(plan.runs) == 1


def test_a_lone_mel_is_one_pass_of_itself_and_streaming_windows_need_no_edges():
    field = ReceptiveField(5, 4)
    plan = pack([30], field)
    assert [[[(w.start, w.stop) for w in row] for row in run] for run in plan.runs] == [[[(0, 30)]]]
    windows = pack([20, 25, 30], field, keep=[(5, 16), (5, 21), (0, 26)])  # context on both sides, a first window
    assert len(windows.runs) == 1 and computed_frames(windows) == 75
    same = pack([20, 20, 20], field, keep=[(5, 16), (5, 16), (0, 16)])  # streams in step: stacked rows
    assert [len(run) for run in same.runs] == [3] and computed_frames(same) == 60


def test_bad_keep_ranges_are_refused():
    with pytest.raises(ValueError, match=r"mel 1: frames \[3, 2\)"):
        pack([5, 5], ReceptiveField(1, 1), keep=[(0, 5), (3, 2)])
    for a, b in ((0, 6), (-1, 3)):  # past the mel's end, before its start
        with pytest.raises(ValueError, match=rf"^mel 0: frames \[{a}, {b}\) are not within its 5 frames"):
            pack([5], ReceptiveField(1, 1), keep=[(a, b)])
    with pytest.raises(ValueError, match=r"^keep has 2 ranges for 1 mel$"):
        pack([5], ReceptiveField(1, 1), keep=[(0, 5), (0, 1)])
    with pytest.raises(ValueError, match=r"^keep has 1 range for 2 mels$"):
        pack([5, 5], ReceptiveField(1, 1), keep=[(0, 5)])
    for pair in (None, 3, (0, 1, 2)):  # Python's "cannot unpack ..." TypeError or ValueError, naming nothing
        with pytest.raises(ValueError, match=rf"^keep\[1\] must be a \(start, stop\) pair of frame indices, got "
                                             rf"{re.escape(repr(pair))}$"):
            pack([5, 5], ReceptiveField(1, 1), keep=[(0, 5), pair])
    assert pack([5, 5], ReceptiveField(1, 1), keep=np.array([[0, 5], [1, 4]])).runs  # an array's rows are pairs
    for a, b in ((1.5, 4), (0, 4.0), (True, 4)):  # Python's slice TypeError, or True taken as frame 1
        with pytest.raises(ValueError, match=rf"^mel 0: frames \[{a!r}, {b!r}\) are not whole frame indices"):
            pack([5], ReceptiveField(1, 1), keep=[(a, b)])
    assert pack([5], ReceptiveField(1, 1), keep=[(np.int64(1), np.int64(4))]).runs  # numpy's integers are ints


def test_round_up_gives_the_smallest_size_of_its_grid():
    for steps in (1, 2, 8):
        grid = sorted({m << e for e in range(16) for m in range(steps, 2 * steps)} | set(range(1, 2 * steps + 1)))
        for n in range(1, 3000):
            size = round_up(n, steps)
            assert size == next(g for g in grid if g >= n), (n, steps)
            assert n <= 2 * steps or size < n * (1 + 1 / steps)
    with pytest.raises(ValueError, match="power of two, got 3"):
        round_up(5, 3)


def test_buckets_pad_the_sequence_and_give_its_last_mel_an_edge_window():
    field, buckets = ReceptiveField(5, 4), Buckets(8, 2)
    plan = pack([30, 25, 40], field, buckets=buckets)  # 95 frames laid: a pass of 96, the end no true end
    assert plan.shapes == [(1, 96), (6, 9)]  # edge windows: 2 per inner boundary, 1 at the padded end (5 -> 6 rows)
    assert [(w.item, w.start, w.stop) for row in plan.runs[1] for w in row] == [
        (0, 21, 30), (1, 0, 9), (1, 16, 25), (2, 0, 9), (2, 31, 40)]
    exact = pack([30, 34], field, buckets=buckets)  # 64 frames: a size of its own, no padding, a true end
    assert exact.shapes == [(1, 64), (2, 9)]
    same = pack([20] * 5, field, buckets=buckets)  # stacked rows: 5 -> 6 rows, 20 frames (a size of its own)
    assert same.shapes == [(6, 20)] and computed_frames(same) == 120
    rows = pack([17, 17, 18, 18], field, buckets=buckets)  # two lengths stacked in one pass of 18 frames
    assert rows.shapes == [(4, 18), (2, 9)]  # the padded 17s get an edge window at their end


def _vocoder(shape_buckets: bool) -> Vocoder:
    torch.manual_seed(0)  # both the same weights
    return Vocoder(Generator(tiny_config("2")).double(), tiny_config("2"), backend="eager", shape_buckets=shape_buckets)


_VOCODER = _vocoder(False)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 70), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=6),
       st.booleans())
def test_batch_with_keep_ranges_equals_those_frames_vocoded_alone(items, bucketed):
    """In float64: the kept audio of each mel is that of the mel alone (the plan above, run for real), with and
    without shape buckets."""
    vocoder = _vocoder(True) if bucketed else _VOCODER  # fresh: its passes bucketed (no shape seen before)
    cfg, hop = vocoder.config, vocoder.hop_size
    gen = torch.Generator().manual_seed(len(items))
    mels, keep = [], []
    for n, u, v in items:
        mels.append(torch.randn(cfg.num_mels, n, generator=gen, dtype=torch.float64) - 2)
        a, b = sorted((round(u * n), round(v * n)))
        keep.append((a, b))
    for mel, (a, b), audio in zip(mels, keep, vocoder.batch(mels, keep=keep)):
        assert audio.shape == ((b - a) * hop,) and audio.dtype == torch.float64
        assert torch.allclose(audio, _VOCODER(mel)[a * hop : b * hop], rtol=0, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 90))
def test_bucketed_calls_equal_plain_ones(rows, frames):
    """In float64: a whole mel or a batch of one length, through padded passes and edge windows (a shape's first
    call) or as it is (once the shape comes back), equals one pass."""
    bucketed = _vocoder(True)
    bucketed.buckets = Buckets(exact_after=1)  # as it is from the second call
    mel = torch.randn(rows, _VOCODER.config.num_mels, frames, generator=torch.Generator().manual_seed(frames),
                      dtype=torch.float64) - 2
    for _ in range(2):
        assert torch.allclose(bucketed(mel), _VOCODER(mel), rtol=0, atol=1e-12)
        assert torch.allclose(bucketed(mel[0]), _VOCODER(mel[0]), rtol=0, atol=1e-12)


def test_a_plan_runs_as_it_is_once_each_of_its_shapes_came_back_exact_after_times():
    """The default: bucketed for a shape's first 32 asks (its set-up costs tens of passes on a GPU), as it is from the
    33rd; a plan of several shapes once every one has; exact_after=1 is the rule of 'as it is on the second ask'."""
    bucketed = _vocoder(True)
    assert bucketed.buckets == Buckets() and Buckets().exact_after == 32
    assert [bucketed._seen([(1, 9)]) for _ in range(34)] == [False] * 32 + [True, True]
    assert [bucketed._seen([(1, 9), (2, 9)]) for _ in range(33)] == [False] * 32 + [True]  # (2, 9): 32 asks by now
    assert bucketed._seen([(1, 30)]) is False
    bucketed.buckets = Buckets(exact_after=1)
    asked = [[(1, 5)], [(1, 5)], [(2, 5), (1, 5)], [(1, 5), (2, 5)], [(1, 31)]]
    assert [bucketed._seen(shapes) for shapes in asked] == [False, True, False, True, False]
    assert Vocoder(Generator(tiny_config("2")), tiny_config("2")).buckets is None  # auto: off on the CPU


def test_loading_a_checkpoint_passes_shape_buckets_on(tiny_checkpoint):
    assert Vocoder.from_checkpoint(tiny_checkpoint, shape_buckets=True).buckets == Buckets()
    assert Vocoder.from_checkpoint(tiny_checkpoint).buckets is None  # auto: off on the CPU
