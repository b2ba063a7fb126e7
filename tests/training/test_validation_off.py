"""validation_off: a run holding nothing out (--valid-count 0) validates nothing; a new run must say so, a resumed
one has validation turned off with a line saying why, and every other run keeps its options."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.errors import HifiganError
from hifigan.training.options import TrainOptions, validation_off


@settings(max_examples=30, deadline=None)
@given(interval=st.integers(0, 5000), count=st.one_of(st.none(), st.integers(0, 50)), resuming=st.booleans())
def test_only_a_run_that_holds_nothing_out_has_validation_turned_off(tmp_path_factory, interval, count, resuming):
    options = TrainOptions(out=tmp_path_factory.getbasetemp() / "run", validation_interval=interval)
    if count == 0 and interval > 0 and not resuming:
        with pytest.raises(HifiganError, match=r"^--valid-count 0 holds nothing out, .* add --validation-interval 0"):
            validation_off(options, count, resuming, cli=True)
        return
    got, said = validation_off(options, count, resuming, cli=True)
    if count == 0 and interval > 0:  # resumed
        assert got.validation_interval == 0 and got.out == options.out
        assert said == ("validation off: the run holds nothing out (--valid-count 0); start a new run to validate")
    else:
        assert got == options and said is None
