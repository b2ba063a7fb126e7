"""Several bad inputs are one line that splits back into each one's own error (hifigan.errors.bad_inputs,
split_problems), whatever the paths hold: the separator, quotes, line breaks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.errors import LISTED_SCAN_KEPT, HifiganError, bad_inputs, split_problems

# Path text built from the pieces that could confuse a split, and any text at all.
TRICKY = st.lists(st.sampled_from([" | ", " |", "|", " ", '"', "\\", "\n", "é", "a.wav", "(nothing was written): ",
                                         LISTED_SCAN_KEPT]),
                  max_size=6).map("".join)
PATHS = st.one_of(TRICKY, st.text(max_size=20))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(PATHS, PATHS), min_size=2, max_size=5), st.booleans())
def test_the_listed_problems_split_back_exactly(cases, scan_kept):
    problems = [HifiganError(path or None, problem or "is bad") for path, problem in cases]
    message = str(bad_inputs(problems, 9, scan_kept=scan_kept))
    note = LISTED_SCAN_KEPT if scan_kept else "(nothing was written): "  # train's, refused after its scan
    assert message.startswith(f"{len(problems)} of 9 inputs are bad {note}")
    assert split_problems(message) == [str(e) for e in problems]
    assert len(message.splitlines()) == 1  # the CLI's one line is the message as it is


def test_a_plain_list_is_as_each_error_says_it_and_an_ambiguous_path_is_quoted():
    plain = [HifiganError("a.wav", "has 2 channels; only mono is supported"), HifiganError("b.npy", "is empty")]
    assert str(bad_inputs(plain, 3)) == ("2 of 3 inputs are bad (nothing was written): a.wav: has 2 channels; only "
                                         "mono is supported | b.npy: is empty")
    odd = [HifiganError("x | y.wav", "is empty"), HifiganError("z", 'ends " |')]
    assert str(bad_inputs(odd, 2)) == ('2 of 2 inputs are bad (nothing was written): "x | y.wav: is empty" | '
                                       '"z: ends \\" |"')


def test_a_quoted_problem_followed_by_anything_but_the_separator_is_no_list():
    with pytest.raises(ValueError) as e:
        split_problems('2 of 2 inputs are bad (nothing was written): "a.wav: is empty" b.wav: is empty')
    assert str(e.value) == "not a list of problems: ' b.wav: is empty' follows 'a.wav: is empty'"
