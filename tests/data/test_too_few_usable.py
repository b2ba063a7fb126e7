"""too_few_usable and why_unusable on scan verdicts: the boundary of usable files a run needs (2 to draw a held-out
clip, 1 with --valid-count 0 or a validation list), and the count per reason, a missing file told from an
unreadable one that exists; the validation part's skipped files listed with the training part's."""

from __future__ import annotations

import os
import shutil

import pytest

from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus, too_few_usable, why_unusable
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.errors import HifiganError
from tests.support.tiny import tiny_config


def test_unusable_files_are_counted_per_reason_and_a_missing_file_is_not_an_unreadable_one(tmp_path):
    files = [tmp_path / name for name in ("a.wav", "b.wav", "c.wav", "d.wav", "e.wav", "f.wav", "g.wav")]
    for f in files[:3] + files[4:]:
        f.write_bytes(b"x")  # d.wav is missing
    verdicts = ["unreadable", "usable", "unreadable", "unreadable", "short", "format", "silent"]
    assert why_unusable(files, verdicts) == (f"2 unreadable, e.g. {files[0]}; 1 missing, e.g. {files[3]}; "
                                             f"1 too short, e.g. {files[4]}; 1 silent, e.g. {files[6]}")


@pytest.mark.parametrize(("valid_count", "drawn", "need"), [(None, True, 2), (3, True, 2), (0, True, 1),
                                                            (None, False, 1)])
def test_the_fewest_usable_files_a_run_needs(tmp_path, valid_count, drawn, need):
    corpus = Corpus(folder=tmp_path, valid_count=valid_count)
    files = [tmp_path / f"c{i}.wav" for i in range(4)]
    for f in files:
        f.write_bytes(b"x")
    for usable in range(4):
        verdicts = ["usable"] * usable + ["empty"] * (4 - usable)
        if usable >= need:
            too_few_usable(corpus, files, verdicts, drawn)
            continue
        what = "s to hold out a validation clip" if need == 2 else " to train on"
        with pytest.raises(HifiganError) as caught:
            too_few_usable(corpus, files, verdicts, drawn)
        are = "is" if usable == 1 else "are"
        assert str(caught.value) == (f"need at least {need} usable audio file{what} ({usable} of 4 {are} usable: "
                                     f"{4 - usable} empty, e.g. {files[usable]})")


def test_files_skipped_in_the_validation_list_are_in_the_skipped_list_too(tmp_path, tiny_corpus):
    shutil.copytree(tiny_corpus, tmp_path / "wav")
    (tmp_path / "wav" / "hollow.wav").write_bytes(b"")
    (tmp_path / "train.txt").write_text("".join(f"clip0{i}|x\n" for i in range(6)))
    (tmp_path / "valid.txt").write_text("clip06|x\nhollow|x\n")
    listing = tmp_path / "run" / "skipped.tsv"
    config = tiny_config()
    with pytest.warns(UserWarning, match="validation set: skipped 1"):
        scanned = scan_corpus(Corpus(train_list=tmp_path / "train.txt", valid_list=tmp_path / "valid.txt",
                                     wav_root=tmp_path / "wav"), config,
                              lambda f: gather_facts(f, ReadSettings(config.sampling_rate), progress=False),
                              skipped_list=listing)
    assert [c.path.name for c in scanned.valid.clips] == ["clip06.wav"]
    lines = listing.read_bytes().splitlines()
    assert lines[1:] == [os.fsencode(tmp_path / "wav" / "hollow.wav") + b"\tis empty (0 bytes), expected an audio file"]
