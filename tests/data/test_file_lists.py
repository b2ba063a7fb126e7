"""LJSpeech-style file lists: ids with or without an audio suffix (any case), the list's folder as the wav root
when none is given, the validation list's files taken out of training and each file listed once."""

from __future__ import annotations

import pytest

from hifigan.data.corpus import Corpus, read_filelist
from hifigan.errors import HifiganError


def test_an_id_with_an_audio_suffix_in_any_case_keeps_it(tmp_path):
    (tmp_path / "list.txt").write_text("a.WAV|x\nb.Flac|y\nc|z\nd.txt|w\n")
    assert read_filelist(tmp_path / "list.txt", tmp_path / "wavs") == [
        tmp_path / "wavs" / name for name in ("a.WAV", "b.Flac", "c.wav", "d.txt.wav")]


def test_lists_resolve_against_their_folder_and_validation_files_leave_training(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "training.txt").write_text("c0|a\nc1|b\nc2|c\n")
    (lists / "validation.txt").write_text("c1|b\nc3|d\n")
    corpus = Corpus(train_list=lists / "training.txt", valid_list=lists / "validation.txt")
    assert corpus.root() == lists
    held = corpus.split(seed=0)
    assert held.train == [lists / "c0.wav", lists / "c2.wav"] and held.valid == [lists / "c1.wav", lists / "c3.wav"]
    assert corpus.listed() == [lists / f"c{i}.wav" for i in (0, 1, 2, 3)]  # c1, in both lists, once


@pytest.mark.parametrize(("listed", "said"), [(1, "its only file is"), (2, "all 2 files it lists are")])
def test_a_training_list_held_out_whole_by_the_validation_list_is_named(tmp_path, listed, said):
    """--valid-list given the training list (or a superset): the error says so, not 'no usable audio files', in
    words that agree with the count."""
    (tmp_path / "training.txt").write_text("".join(f"c{i}|a\n" for i in range(listed)))
    (tmp_path / "all.txt").write_text("c0|a\nc1|b\nc2|c\n")
    with pytest.raises(HifiganError) as refused:
        Corpus(train_list=tmp_path / "training.txt", valid_list=tmp_path / "all.txt").split(seed=0)
    assert str(refused.value) == (f"{tmp_path / 'training.txt'}: {said} in {tmp_path / 'all.txt'} too (held out, so "
                                  "none is left to train on): Corpus.valid_list takes the validation files only")
