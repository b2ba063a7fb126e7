"""The recordings of one utterance on one side of the split: VCTK 0.92's `_mic1` and `_mic2` files draw one number
and count once, for every seed, count, fraction and cap, and a resume holds out a take added since of a held-out
utterance; older runs' draw (each file alone) is kept for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.data.corpus import Corpus
from hifigan.data.held_out_draw import choose_validation
from hifigan.data.resumed_split import keep_held_out
from hifigan.errors import HifiganError


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), count=st.integers(1, 15), fraction=st.floats(0.01, 0.99), cap=st.integers(0, 9))
def test_the_two_microphones_of_an_utterance_are_always_on_one_side(seed, count, fraction, cap):
    root = Path("/VCTK/wav48_silence_trimmed")
    files = [root / f"p{s}" / f"p{s}_{u:03d}_mic{m}.flac" for s in range(225, 229) for u in range(1, 5) for m in (1, 2)]
    for held in (choose_validation(files, count=count, seed=seed, root=root.parent, cli=True),
                 choose_validation(files, fraction=fraction, cap=cap, seed=seed, root=root.parent, cli=True)):
        valid = {f.name.rsplit("_mic", 1)[0] for f in held.valid}
        assert valid.isdisjoint(f.name.rsplit("_mic", 1)[0] for f in held.train)
        assert len(held.valid) == 2 * len(valid) and sorted(held.train + held.valid) == sorted(files)
    assert len(choose_validation(files, count=count, seed=seed, root=root.parent, cli=True).valid) == 2 * count


def test_utterances_are_counted_once_and_said_so():
    files = [Path(f"/c/s/u{u}_mic{m}.flac") for u in range(6) for m in (1, 2)] + [Path("/c/s/v_mic3.flac")]
    held = choose_validation(files, count=2, seed=1, root=Path("/c"), cli=True)
    assert held.reason == ("2 of 7 utterances (--valid-count); 4 files held out: an utterance's recordings (_mic1, "
                           "_mic2) on one side")
    with pytest.raises(HifiganError, match=r"^need at least 2 utterances to hold out a validation clip: the 2 "):
        choose_validation(files[:2], count=1, seed=1, cli=True)
    alone = choose_validation(files, count=2, seed=1, root=Path("/c"), cli=True, utterances=False)  # older runs'
    assert alone.reason == "2 of 13 files (--valid-count)"


def test_a_resume_holds_out_a_take_added_since_of_a_held_out_utterance(tmp_path):
    """A drawn run resumed after p225_002_mic2 was added, whose _mic1 the run held out: it validates with it, said
    in a warning; a run that drew each file alone (before the rule) keeps training on it, as it did."""
    root = tmp_path / "VCTK"
    for u in range(1, 5):
        for m in (1, 2) if u != 2 else (1,):
            (root / "p225").mkdir(parents=True, exist_ok=True)
            sf.write(root / "p225" / f"p225_{u:03d}_mic{m}.flac", np.full(200, 0.1, np.float32), 8000)
    corpus = Corpus(folder=root, valid_count=1, cli=True)
    new = root / "p225" / "p225_002_mic2.flac"
    sf.write(new, np.full(200, 0.1, np.float32), 8000)
    with pytest.warns(UserWarning) as warned:
        held = keep_held_out(corpus, corpus.split(1), ["p225/p225_002_mic1.flac"])
    assert held.valid == [root / "p225" / "p225_002_mic1.flac", new] and len(held.train) == 6
    assert [str(w.message) for w in warned] == [
        "1 file of the held-out utterances (a _mic1 or _mic2 recording of one held out) is not among the run's "
        "held-out files (p225/p225_002_mic2.flac): held out too, not trained on; val/mel_l1 now averages over 2, "
        "not the set of its earlier values"]
    assert held.reason == ("the run's 1 held-out file, from its checkpoint, and 1 added to the held-out utterances "
                           "(a _mic1 or _mic2 recording of one held out) since; the options now would draw others")
    alone = keep_held_out(corpus, corpus.split(1), ["p225/p225_002_mic1.flac"], utterances=False)
    assert alone.valid == [root / "p225" / "p225_002_mic1.flac"] and new in alone.train
