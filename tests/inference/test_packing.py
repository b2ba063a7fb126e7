"""`Vocoder.batch`'s plan (hifigan.inference.packing): every wanted frame from exactly one pass position whose
window holds that frame's whole receptive field, or meets the mel's true end where the field is clipped; and no
padding (the cost is the mels' frames plus edge windows)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.inference.packing import pack
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.layers import ReceptiveField
from tests.support.tiny import tiny_config


@st.composite
def batches(draw):
    left, right = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    lengths = draw(st.lists(st.integers(1, 40), min_size=0, max_size=7))
    keep = []
    for n in lengths:
        a = draw(st.integers(0, n))
        keep.append((a, draw(st.integers(a, n))))
    return ReceptiveField(left, right), lengths, draw(st.sampled_from([None, keep]))


def _source(plan, run: int, row: int, position: int):
    """(window, its first position in the row, whether it starts the row, whether it ends it) at `position`."""
    windows, at = plan.runs[run][row], 0
    for k, w in enumerate(windows):
        if at <= position < at + w.frames:
            return w, at, k == 0, k == len(windows) - 1
        at += w.frames
    raise AssertionError(f"position {position} is past row {row} of run {run}")


@settings(max_examples=300, deadline=None)
@given(batches())
def test_every_wanted_frame_comes_from_a_window_holding_its_receptive_field(case):
    field, lengths, keep = case
    plan = pack(lengths, field, keep)
    keep = keep or [(0, n) for n in lengths]
    for run in plan.runs:  # rows of one pass are stacked: equally long
        assert len({sum(w.frames for w in row) for row in run}) == 1
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
    edge = field.left + field.right
    assert plan.computed_frames() <= sum(wanted) + 2 * edge * max(0, len(wanted) - 1)
    assert len(plan.runs) <= 2 + len(set(wanted))
    if len(wanted) > 1 and len(set(wanted)) == 1:  # one length: stacked rows, no edge windows
        assert plan.computed_frames() == sum(wanted) and len(plan.runs) == 1


def test_a_lone_mel_is_one_pass_of_itself_and_streaming_windows_need_no_edges():
    field = ReceptiveField(5, 4)
    plan = pack([30], field)
    assert [[[(w.start, w.stop) for w in row] for row in run] for run in plan.runs] == [[[(0, 30)]]]
    windows = pack([20, 25, 30], field, keep=[(5, 16), (5, 21), (0, 26)])  # context on both sides, a first window
    assert len(windows.runs) == 1 and windows.computed_frames() == 75
    same = pack([20, 20, 20], field, keep=[(5, 16), (5, 16), (0, 16)])  # streams in step: stacked rows
    assert [len(run) for run in same.runs] == [3] and same.computed_frames() == 60


def test_bad_keep_ranges_are_refused():
    with pytest.raises(ValueError, match=r"mel 1: frames \[3, 2\)"):
        pack([5, 5], ReceptiveField(1, 1), keep=[(0, 5), (3, 2)])
    with pytest.raises(ValueError, match="2 ranges for 1 mels"):
        pack([5], ReceptiveField(1, 1), keep=[(0, 5), (0, 1)])


torch.manual_seed(0)
_VOCODER = Vocoder(Generator(tiny_config("2")).double(), tiny_config("2"), backend="eager")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 70), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=6))
def test_batch_with_keep_ranges_equals_those_frames_vocoded_alone(items):
    """In float64: the kept audio of each mel is that of the mel alone (the plan above, run for real)."""
    cfg, hop = _VOCODER.config, _VOCODER.hop_size
    gen = torch.Generator().manual_seed(len(items))
    mels, keep = [], []
    for n, u, v in items:
        mels.append(torch.randn(cfg.num_mels, n, generator=gen, dtype=torch.float64) - 2)
        a, b = sorted((round(u * n), round(v * n)))
        keep.append((a, b))
    for mel, (a, b), audio in zip(mels, keep, _VOCODER.batch(mels, keep=keep)):
        assert audio.shape == ((b - a) * hop,) and audio.dtype == torch.float64
        assert torch.allclose(audio, _VOCODER(mel)[a * hop : b * hop], rtol=0, atol=1e-12)
