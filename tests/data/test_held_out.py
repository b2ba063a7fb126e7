"""The held-out set: 5% by a seeded hash of each clip's path, capped at 150 (the official list's size), stable as
the corpus grows (a clip's membership changes only through the cap), and a one-line reason for its size."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.data.held_out_draw import DEFAULT_CAP, choose_validation
from hifigan.errors import HifiganError


def names(n: int, start: int = 0, root: Path = Path("/corpus")) -> list[Path]:
    return [root / f"spk{i % 7}" / f"utt{i:06d}.wav" for i in range(start, start + n)]


def test_the_draw_is_sha256_of_the_seed_and_the_relative_path():
    """A file's number: the first 8 bytes of sha256("<seed>\\0<path relative to the root>") over 2^64, written out."""
    files = names(60)

    def draw(path: Path, seed: int) -> float:
        digest = hashlib.sha256(f"{seed}\0{path.relative_to('/corpus').as_posix()}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    chosen = {}
    for seed in (1234, 7):
        chosen[seed] = choose_validation(files, count=5, seed=seed, root=Path("/corpus"), cli=True).valid
        assert chosen[seed] == sorted(sorted(files, key=lambda p: draw(p, seed))[:5])
    assert chosen[1234] != chosen[7]


def test_a_resumed_run_keeps_its_files_by_path_not_by_name(tmp_path):
    """Two speakers' 000.wav: the run held out spk1's, so spk2's stays in training."""
    import soundfile as sf

    from hifigan.data.corpus import Corpus
    from hifigan.data.resumed_split import keep_held_out

    for speaker in ("spk1", "spk2"):
        for stem in ("000", "001", "002"):
            (tmp_path / speaker).mkdir(exist_ok=True)
            sf.write(tmp_path / speaker / f"{stem}.wav", [0.1] * 100, 8000)
    corpus = Corpus(folder=tmp_path, valid_count=1)
    held = keep_held_out(corpus, corpus.split(0), ["spk1/000.wav"])
    assert held.valid == [tmp_path / "spk1" / "000.wav"] and tmp_path / "spk2" / "000.wav" in held.train


def test_only_usable_files_are_drawn():
    files = names(40)
    everyone = choose_validation(files, count=3, seed=5, cli=True)
    bad = everyone.valid[0]
    held = choose_validation(files, count=3, seed=5, usable=set(files) - {bad}, cli=True)
    assert held.valid == sorted(set(choose_validation(files, count=4, seed=5, cli=True).valid) - {bad})  # the next draw
    assert bad in held.train and len(held.train) == 37 and sorted(held.train + held.valid) == sorted(files)
    assert held.reason == "3 of 39 files (--valid-count); 1 unusable file never held out"
    two = choose_validation(files, count=3, seed=5, usable=set(files) - {bad, files[0]}, cli=True)
    assert two.reason == "3 of 38 files (--valid-count); 2 unusable files never held out"
    with pytest.raises(HifiganError, match=r"need at least 2 audio files .*\(1 of 40 is usable\)"):
        choose_validation(files, count=1, usable={files[0]}, cli=True)


def test_default_is_five_percent_capped_at_the_official_150():
    small = choose_validation(names(1000), seed=3, root=Path("/corpus"), cli=True)
    assert 30 <= len(small.valid) <= 70 and "capped" not in small.reason  # 50 expected, sd 6.9
    assert small.reason.startswith(f"{len(small.valid)} of 1000 files")
    large = choose_validation(names(20000), seed=3, root=Path("/corpus"), cli=True)
    assert len(large.valid) == DEFAULT_CAP == 150
    assert "capped at 150" in large.reason and len(large.train) == 20000 - 150
    no_cap = choose_validation(names(20000), cap=0, seed=3, root=Path("/corpus"), cli=True)
    assert len(no_cap.valid) > 900  # ~1000
    assert len(choose_validation(names(20000), cap=40, seed=3, cli=True).valid) == 40
    assert len(choose_validation(names(20000), count=500, seed=3, cli=True).valid) == 500  # a count is not capped
    with pytest.raises(HifiganError, match="cap"):
        choose_validation(names(10), cap=-1, cli=True)


def test_growth_keeps_every_clip_where_it_was_except_through_the_cap():
    root = Path("/corpus")
    before = choose_validation(names(2000), fraction=0.05, cap=0, seed=9, root=root, cli=True)
    grown = choose_validation(names(3000), fraction=0.05, cap=0, seed=9, root=root, cli=True)
    old = set(names(2000))
    assert set(grown.valid) & old == set(before.valid) and set(grown.train) & old == set(before.train)
    # With the cap reached, the held-out set is the lowest draws: a clip leaves only for a new one that drew lower.
    capped = choose_validation(names(2000), cap=60, seed=9, root=root, cli=True)
    capped_grown = choose_validation(names(3000), cap=60, seed=9, root=root, cli=True)
    assert len(capped.valid) == len(capped_grown.valid) == 60
    left = set(capped.valid) - set(capped_grown.valid)
    joined = set(capped_grown.valid) - set(capped.valid)
    assert len(left) == len(joined) and not joined & old  # those who joined are new files, one per departure
    assert set(capped_grown.valid) <= set(grown.valid)  # the capped set is a subset of the uncapped one


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 300), seed=st.integers(0, 10**6), fraction=st.floats(0.01, 0.9))
def test_membership_depends_on_the_relative_path_and_seed_only(n, seed, fraction):
    """The same clips under another root (a moved or copied corpus), listed in any order: the same split."""
    a = choose_validation(names(n), fraction=fraction, cap=0, seed=seed, root=Path("/corpus"), cli=True)
    b = choose_validation(list(reversed(names(n, root=Path("/mnt/x")))), fraction=fraction, cap=0, seed=seed,
                          root=Path("/mnt/x"), cli=True)
    assert [p.relative_to("/corpus") for p in a.valid] == [p.relative_to("/mnt/x") for p in b.valid]
    assert 1 <= len(a.valid) < n and sorted(a.train + a.valid) == sorted(names(n))


def test_training_files_stay_sorted_with_the_unusable_among_them():
    """The unusable files join the training files in path order, not at the end."""
    files = names(12)
    unusable = {files[0], files[5]}
    held = choose_validation(files, count=2, seed=5, usable=set(files) - unusable, cli=True)
    assert held.train == sorted(set(files) - set(held.valid)) and unusable <= set(held.train)


def test_a_resumed_run_that_held_out_every_file_is_refused():
    from hifigan.data.corpus import Corpus
    from hifigan.data.held_out_draw import HeldOut
    from hifigan.data.resumed_split import keep_held_out

    root = Path("/corpus")
    corpus = Corpus(folder=root, valid_count=1)
    held = HeldOut([root / "a.wav"], [root / "b.wav"], "")
    assert keep_held_out(corpus, held, ["a.wav"]).valid == [root / "a.wav"]
    for keys in (["a.wav", "b.wav"], ["gone.wav"]):
        with pytest.raises(HifiganError, match="nothing left to validate or to train on"):
            keep_held_out(corpus, held, keys)


def test_no_cap_is_not_said_to_cap():
    """--valid-cap 0 means no cap: the reason gives the draw alone, never 'capped at 0'."""
    files = [Path(f"/corpus/{i:02d}.wav") for i in range(40)]
    held = choose_validation(files, fraction=0.5, cap=0, root=Path("/corpus"), cli=True)
    n = len(held.valid)
    assert 1 < n < 39 and held.reason == f"{n} of 40 files: 0.5 of them by seeded path hash (--valid-fraction) drew {n}"


def test_a_file_added_to_the_validation_list_since_is_held_out_too_not_trained_on():
    """A --valid-list run resumed after its list gained a file: the list's file stays out of training (it was taken
    as the run's training side: the run's held-out keys alone were kept), said in a warning, and a file the list
    dropped since stays held out (the run held it out)."""
    from hifigan.data.corpus import Corpus
    from hifigan.data.held_out_draw import HeldOut
    from hifigan.data.resumed_split import keep_held_out

    root = Path("/corpus")
    corpus = Corpus(train_list=root / "training.txt", valid_list=root / "validation.txt")
    train = [root / f"t{i}.wav" for i in range(4)]
    with pytest.warns(UserWarning) as warned:
        grown = keep_held_out(corpus, HeldOut(train, [root / "v0.wav", root / "v1.wav"], ""), ["v0.wav"])
    assert (grown.train, grown.valid) == (train, [root / "v0.wav", root / "v1.wav"])
    assert grown.reason == "the run's 1 held-out file, from its checkpoint, and 1 added to /corpus/validation.txt since"
    assert [str(w.message) for w in warned] == [
        "1 file of /corpus/validation.txt is not among the run's held-out files (v1.wav): held out too, not trained "
        "on; val/mel_l1 now averages over 2, not the set of its earlier values"]
    moved = keep_held_out(corpus, HeldOut([*train, root / "v0.wav"], [root / "v1.wav"], ""), ["v0.wav", "v1.wav"])
    assert (moved.train, moved.valid) == (train, [root / "v0.wav", root / "v1.wav"])
    assert moved.reason == "the run's 2 held-out files, from its checkpoint; the list now names others"
