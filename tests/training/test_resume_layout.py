"""A resume whose batch layout changed: the warning names each change (old -> new), and under torchrun only rank 0
gives it (the job says it once)."""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch

from hifigan.data.corpus import Corpus
from hifigan.training.data_parallel import DistInfo, warnings_from_main
from hifigan.training.job import train
from hifigan.training.options import TrainJob, TrainOptions
from hifigan.training.resume_layout import clips_digest, end_cut_epoch
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


def test_as_many_training_clips_but_other_files_end_the_cut_epoch():
    """A file replaced by another (the count unchanged): each index of the cut epoch's order is another clip now."""
    state = new_state(tiny_config(), torch.device("cpu"))
    state.batch_in_epoch = 3
    layout = {**LAYOUT, "data": {"train_clips": 14, "train_digest": clips_digest([f"c{i}.wav" for i in range(14)])}}
    with pytest.warns(UserWarning) as warned:
        end_cut_epoch(state, layout, 2, 1, 14, 7, clips_digest([f"c{i}.wav" for i in range(1, 15)]))
    assert [str(w.message) for w in warned] == [
        "the training clips (14, other files) changed since the checkpoint: epoch 0 ends here (3 of its batches "
        "trained) and the learning rates decay now, as at every epoch's end; epoch 1 starts with the new order"]
    assert state.batch_in_epoch == 7
    same = {**layout, "data": dict(layout["data"])}
    state.batch_in_epoch = 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        end_cut_epoch(state, same, 2, 1, 14, 7, clips_digest([f"c{i}.wav" for i in range(14)]))
    assert state.batch_in_epoch == 3


def test_a_resume_after_one_file_was_swapped_for_another_trains_no_clip_twice_in_the_epoch(tmp_path, tiny_corpus):
    corpus = tmp_path / "c"
    shutil.copytree(tiny_corpus, corpus)
    epochs: dict[int, list[str]] = {}

    def seen(trainer, batch, result):
        epochs.setdefault(trainer.epoch if trainer.state.batch_in_epoch else trainer.epoch - 1, []).extend(
            trainer.train_set.clips[int(i)].path.name for i in batch[3])

    options = TrainOptions(out=tmp_path / "run", progress=False, validation_interval=0, checkpoint_interval=0)
    train(TrainJob(options, Corpus(folder=corpus, valid_count=0), config=tiny_config(), max_steps=2, batch_size=1,
                   on_step=seen))
    first = sorted(corpus.glob("*.wav"))[0]
    first.rename(corpus / "zz_renamed.wav")  # as many files, one of them under another name
    with pytest.warns(UserWarning, match=r"the training clips \(8, other files\) changed since the checkpoint: "
                                         r"epoch 0 ends here \(2 of its batches trained\)"):
        done = train(TrainJob(TrainOptions(progress=False), resume=tmp_path / "run", max_steps=10, on_step=seen))
    assert (done.step, done.epoch) == (10, 2)  # epoch 0 ended at step 2; epoch 1 was steps 3 to 10
    assert len(epochs[0]) == 2 and sorted(epochs[1]) == sorted(p.name for p in corpus.glob("*.wav"))
