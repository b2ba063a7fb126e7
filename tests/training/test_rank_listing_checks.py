"""check_listing on its own (no torchrun): which file a rank's differing listing is named by, and the counts and
places its one line gives, for listings reordered, shortened, extended or of other sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hifigan.errors import HifiganError
from hifigan.training.rank_listing import check_listing, file_sizes, listing_digests

MAIN, MINE = Path("/mnt/node0/corpus"), Path("/data/corpus")  # each rank's own mount point of one corpus
NAMES = st.lists(st.from_regex(r"[a-z]{1,3}/[a-z]{1,4}\.wav", fullmatch=True), min_size=2, max_size=8, unique=True)


def _main(names: list[str]):
    files = [MAIN / n for n in names]
    return listing_digests(files, MAIN), file_sizes(files)  # not on disk here: every size -1


def _refusal(names: list[str], main_names: list[str]) -> str:
    digests, sizes = _main(main_names)
    with pytest.raises(HifiganError) as caught:
        check_listing([MINE / n for n in names], MINE, digests, sizes, rank=3)
    return str(caught.value)


@settings(max_examples=30, deadline=None)
@given(names=NAMES, data=st.data())
def test_the_same_names_in_another_order_name_the_first_file_out_of_place(names, data):
    mine = data.draw(st.permutations(names))
    assume(mine != names)
    first = next(i for i, (a, b) in enumerate(zip(mine, names)) if a != b)
    assert _refusal(mine, names).startswith(f"{MINE / mine[first]}: is listed at another place on rank 3 than on "
                                            f"rank 0 (file {first + 1} of {len(names)}): ")


@settings(max_examples=30, deadline=None)
@given(names=NAMES, data=st.data())
def test_a_listing_lacking_files_says_how_many_and_after_which(names, data):
    drop = data.draw(st.sets(st.integers(0, len(names) - 1), min_size=1, max_size=len(names) - 1))
    mine = [n for i, n in enumerate(names) if i not in drop]
    first = min(drop)
    after = f"after {names[first - 1]}" if first else "before its first file"
    assert _refusal(mine, names).startswith(f"rank 3 lacks {len(drop)} of rank 0's {len(names)} files (the first "
                                            f"{after}): ")


@settings(max_examples=30, deadline=None)
@given(names=NAMES, data=st.data())
def test_files_rank_zero_does_not_list_are_counted_and_the_first_named(names, data):
    extra = data.draw(st.integers(1, len(names) - 1))
    main_names, mine = names[extra:], names
    assert _refusal(mine, main_names).startswith(
        f"{MINE / mine[0]}: is listed on rank 3 but not on rank 0 ({extra} of rank 3's {len(mine)} files "
        f"{'is' if extra == 1 else 'are'} not rank 0's, which lists {len(main_names)}): ")


def test_sizes_are_compared_file_by_file_under_each_ranks_own_root(tmp_path):
    names = ["a.wav", "s/b.wav", "s/c.wav"]
    roots = {0: tmp_path / "r0", 1: tmp_path / "r1"}
    for rank, sizes in {0: (10, 20, 30), 1: (10, 22, 31)}.items():
        for name, size in zip(names, sizes):
            (roots[rank] / name).parent.mkdir(parents=True, exist_ok=True)
            (roots[rank] / name).write_bytes(b"x" * size)
    main = [roots[0] / n for n in names]
    digests, sizes = listing_digests(main, roots[0]), file_sizes(main)
    check_listing(main, roots[0], digests, sizes, rank=0)
    with pytest.raises(HifiganError) as caught:
        check_listing([roots[1] / n for n in names], roots[1], digests, sizes, rank=1)
    assert str(caught.value).startswith(f"{roots[1] / 's/b.wav'}: is 22 bytes on rank 1, 20 on rank 0 (2 of 3 files "
                                        "differ in size): ")
