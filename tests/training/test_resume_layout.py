"""A resume whose batch layout changed: the warning names each change (old -> new), and under torchrun only rank 0
gives it (the job says it once)."""

from __future__ import annotations

import warnings

import pytest
import torch

from hifigan.training.data_parallel import DistInfo, warnings_from_main
from hifigan.training.resume_layout import end_cut_epoch
from hifigan.training.state import new_state
from tests.support.tiny import tiny_config

LAYOUT = {"batch_size": 2, "world_size": 1, "data": {"train_clips": 14}}  # the checkpoint's


@pytest.mark.parametrize(("now", "said"), [
    ((2, 2, 14), "the process count (1 -> 2) changed"),
    ((1, 2, 14), "the batch size (2 -> 1) and the process count (1 -> 2) changed"),
    ((4, 2, 12), "the batch size (2 -> 4), the process count (1 -> 2) and the training clips (14 -> 12) changed"),
])
def test_the_warning_names_what_changed_and_the_cut_epoch_ends(now, said):
    state = new_state(tiny_config(), torch.device("cpu"))
    state.batch_in_epoch = 3
    with pytest.warns(UserWarning) as warned:
        end_cut_epoch(state, LAYOUT, *now, steps_per_epoch=7)
    assert [str(w.message) for w in warned] == [
        f"{said} since the checkpoint: epoch 0 ends here (3 of its batches trained) and the learning rates decay "
        "now, as at every epoch's end; epoch 1 starts with the new order"]
    assert state.batch_in_epoch == 7


@pytest.mark.parametrize("layout", [LAYOUT, {"batch_size": 2, "world_size": 1}],
                         ids=["recorded", "older-no-data"])  # no data: the clips taken as unchanged
def test_an_unchanged_layout_says_nothing_and_keeps_the_position(layout):
    state = new_state(tiny_config(), torch.device("cpu"))
    state.batch_in_epoch = 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        end_cut_epoch(state, layout, 2, 1, 14, steps_per_epoch=7)
    assert state.batch_in_epoch == 3


def test_only_rank_zero_gives_the_warnings_every_rank_would():
    for rank, expected in ((0, ["the same on every rank"]), (1, [])):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with warnings_from_main(DistInfo(rank, 2, rank, in_group=True)):
                warnings.warn("the same on every rank", stacklevel=1)
        assert [str(w.message) for w in caught] == expected, rank


def test_a_changed_layout_at_an_epochs_start_keeps_the_position():
    """At batch 0 nothing of the epoch has trained: it starts with the new order, not ended (skipped) at once."""
    state = new_state(tiny_config(), torch.device("cpu"))
    with pytest.warns(UserWarning) as warned:
        end_cut_epoch(state, LAYOUT, 4, 1, 14, steps_per_epoch=7)
    assert [str(w.message) for w in warned] == [
        "the batch size (2 -> 4) changed since the checkpoint: epoch 0 starts with the new order"]
    assert state.batch_in_epoch == 0


def test_an_older_checkpoints_unrecorded_process_count_is_said_so():
    """No `world_size` (before runs recorded it): the warning says 'not recorded'."""
    state = new_state(tiny_config(), torch.device("cpu"))
    state.batch_in_epoch = 3
    with pytest.warns(UserWarning) as warned:
        end_cut_epoch(state, {"batch_size": 2, "data": {"train_clips": 14}}, 2, 1, 14, steps_per_epoch=7)
    assert [str(w.message) for w in warned] == [
        "the process count (not recorded -> 1) changed since the checkpoint: epoch 0 ends here (3 of its batches "
        "trained) and the learning rates decay now, as at every epoch's end; epoch 1 starts with the new order"]
    assert state.batch_in_epoch == 7
