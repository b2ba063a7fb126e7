"""A resumed run's data paths that are missing (hifigan.training.data_paths): one the job gives anew is named by its
own option, one it left to the run by the run's, with how to give its new place; both in one line."""

from __future__ import annotations

import pytest

from hifigan.data.corpus import Corpus
from hifigan.errors import HifiganError
from hifigan.training.data_paths import check_data_paths, given_paths
from hifigan.training.options import TrainJob


@pytest.mark.parametrize(("cli", "runs_list", "own_root"), [
    (True, "the run's --train-list: moved? give its new place with --train-list FILE", "--wav-root"),
    (False, "the run's Corpus.train_list: moved? give its new place with Corpus(train_list=...)", "Corpus.wav_root"),
])
def test_a_resumed_runs_missing_paths_are_named_by_who_gave_them(tmp_path, cli, runs_list, own_root):
    """Resuming with a new --wav-root, itself missing, and the run's --train-list gone: the new one is named as the
    job's (no 'moved?'), the run's as the run's."""
    job = TrainJob(data=Corpus(wav_root=tmp_path / "new_root"), resume=tmp_path / "run")
    given = given_paths(job)
    assert given == {"wav_root"}
    data = {"corpus": None, "train_list": tmp_path / "gone.txt", "valid_list": None, "wav_root": tmp_path / "new_root",
            "input_mels": None}
    with pytest.raises(HifiganError) as caught:
        check_data_paths(data, given, resuming=True, cli=cli)
    message = str(caught.value)
    assert message.startswith("2 of 2 data paths are bad")
    assert f"{tmp_path / 'gone.txt'}: no such file list ({runs_list})" in message
    assert f"({own_root})" in message and f"the run's {own_root}" not in message
