"""One real file reached by two paths is one clip: a folder corpus lists it once (its first path in sorted order,
with one warning), and a file list naming it twice under two names is refused, so the held-out and training sides
never share a real file."""

from __future__ import annotations

import os

import pytest

from hifigan.audio import AUDIO_SUFFIXES
from hifigan.data.corpus import Corpus, corpus_files
from hifigan.errors import HifiganError


def real(files):
    return [os.path.realpath(f) for f in files]


def test_a_folder_corpus_lists_each_real_file_once_whichever_links_reach_it(tmp_path):
    """lnk/real/*.wav and lnk/all/* symlinks to them: each real file is drawn once, by its first path (all/)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "all").mkdir()
    for i in range(20):
        (tmp_path / "real" / f"c{i:02d}.wav").write_bytes(b"x")
        (tmp_path / "all" / f"c{i:02d}.wav").symlink_to(tmp_path / "real" / f"c{i:02d}.wav")
    with pytest.warns(UserWarning, match=rf"^{tmp_path}: 20 audio files are other paths to files listed already "
                                         r"\(symlinks or hard links\), dropped so each real file is listed once "
                                         rf"\(e\.g\. {tmp_path}/real/c00\.wav is {tmp_path}/all/c00\.wav\)$"):
        held = Corpus(folder=tmp_path, valid_fraction=0.3).split(1234)
    assert len(held.valid) >= 2 and set(real(held.valid)).isdisjoint(real(held.train))
    assert sorted([*held.train, *held.valid]) == [tmp_path / "all" / f"c{i:02d}.wav" for i in range(20)]


@pytest.mark.parametrize("link", ["symlink", "hard link"])
def test_a_second_name_of_one_real_file_is_that_file(tmp_path, link):
    """b.wav is a symlink or a hard link (no link to resolve) to a.wav: a folder lists it once, a file list naming
    both is refused (one could be held out while the other trains), and a validation list naming one name takes
    the other out of training."""
    for name in ("a", "c", "d"):
        (tmp_path / f"{name}.wav").write_bytes(name.encode())
    if link == "hard link":
        os.link(tmp_path / "a.wav", tmp_path / "b.wav")
    else:
        (tmp_path / "b.wav").symlink_to(tmp_path / "a.wav")
    with pytest.warns(UserWarning, match=r"1 audio file is another path to a file listed already \(symlinks or hard "
                                         rf"links\), dropped so each real file is listed once \(e\.g\. {tmp_path}/b\."
                                         rf"wav is {tmp_path}/a\.wav\)$"):
        held = Corpus(folder=tmp_path, valid_count=1).split(1234)
    assert sorted([*held.train, *held.valid]) == [tmp_path / f"{n}.wav" for n in ("a", "c", "d")]
    (tmp_path / "train.txt").write_text("a|x\nc|z\nb|y\n")
    with pytest.raises(HifiganError, match=r"train\.txt: line 3: 'b\.wav' is the file of line 1 \('a\.wav'\) under "
                                           r"another name \(list each clip once\)$"):
        Corpus(train_list=tmp_path / "train.txt").split(1234)
    (tmp_path / "train.txt").write_text("a|x\nc|z\n")
    (tmp_path / "valid.txt").write_text("b|y\n")
    held = Corpus(train_list=tmp_path / "train.txt", valid_list=tmp_path / "valid.txt").split(1234)
    assert (held.train, held.valid) == ([tmp_path / "c.wav"], [tmp_path / "b.wav"])


def test_a_file_in_both_lists_is_held_out_and_the_split_says_so(tmp_path):
    """b is in train.txt and valid.txt: it leaves the training side, and the validation line counts it (the
    official recipe would train on it too), so the training set's size is accounted for."""
    for name in "abc":
        (tmp_path / f"{name}.wav").write_bytes(name.encode())
    (tmp_path / "train.txt").write_text("a|x\nb|y\nc|z\n")
    (tmp_path / "valid.txt").write_text("b|y\n")
    held = Corpus(train_list=tmp_path / "train.txt", valid_list=tmp_path / "valid.txt").split(1234)
    assert (held.train, held.valid) == ([tmp_path / "a.wav", tmp_path / "c.wav"], [tmp_path / "b.wav"])
    assert held.reason == (f"1 file of {tmp_path / 'valid.txt'} (Corpus.valid_list); 1 of them is in "
                           f"{tmp_path / 'train.txt'} too, held out and not trained on")
    (tmp_path / "train.txt").write_text("a|x\nc|z\n")
    held = Corpus(train_list=tmp_path / "train.txt", valid_list=tmp_path / "valid.txt").split(1234)
    assert held.reason == f"1 file of {tmp_path / 'valid.txt'} (Corpus.valid_list)"


def test_the_repeat_warning_names_what_the_folder_lists(tmp_path):
    """A `vocode` folder lists .npy mels too: a mel reached twice is counted as a .npy file, not an audio file, and
    repeats of several kinds as files."""
    for name in ("a.npy", "b.npy", "c.wav"):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "d.npy").symlink_to(tmp_path / "a.npy")
    suffixes = (*AUDIO_SUFFIXES, ".npy")
    with pytest.warns(UserWarning, match=rf"^{tmp_path}: 1 \.npy file is another path to a file listed already "):
        assert corpus_files(tmp_path, suffixes, "audio or .npy") == [tmp_path / n for n in ("a.npy", "b.npy", "c.wav")]
    (tmp_path / "e.wav").symlink_to(tmp_path / "c.wav")
    with pytest.warns(UserWarning, match=rf"^{tmp_path}: 2 files are other paths to files listed already "):
        assert len(corpus_files(tmp_path, suffixes, "audio or .npy")) == 3
