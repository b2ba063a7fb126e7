"""Held out by speaker (--valid-speakers): a speaker is the folder of its clips (VCTK wav48/p225/, LibriTTS
speaker/chapter/), every clip of a held-out speaker validates and none trains, a resume keeps them held out (clips
of theirs added since too), and a name the folders do not make certain is refused in one line."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.corpus import Corpus
from hifigan.data.resumed_split import keep_held_out
from hifigan.data.speakers import speaker_problems, speakers_held_out
from hifigan.errors import HifiganError

VCTK = {"p225": 3, "p226": 2, "p227": 3}  # speaker -> utterances, each as _mic1 and _mic2 (VCTK 0.92)
LIBRITTS = {"19": ("198", "227"), "26": ("495",), "103": ("1240", "19")}  # speaker -> chapters: 103 has a chapter 19


def clip(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full(200, 0.1, np.float32), 8000)
    return path


def vctk(root: Path) -> Path:
    for speaker, n in VCTK.items():
        for u in range(1, n + 1):
            for mic in (1, 2):
                clip(root / "wav48_silence_trimmed" / speaker / f"{speaker}_{u:03d}_mic{mic}.flac")
    return root


def libritts(root: Path) -> Path:
    for speaker, chapters in LIBRITTS.items():
        for chapter in chapters:
            for u in range(2):
                clip(root / "train-clean-100" / speaker / chapter / f"{speaker}_{chapter}_{u:06d}_000000.wav")
    return root


def under(files: list[Path], root: Path) -> list[str]:
    return sorted(f.relative_to(root).as_posix() for f in files)


def test_the_held_out_speakers_clips_are_exactly_the_validation_set(tmp_path):
    root = vctk(tmp_path / "VCTK")
    held = Corpus(folder=root, valid_speakers=["p226", "p225"], cli=True).split(1234)
    assert under(held.valid, root) == [f"wav48_silence_trimmed/{s}/{s}_{u:03d}_mic{m}.flac"
                                       for s, n in (("p225", 3), ("p226", 2)) for u in range(1, n + 1) for m in (1, 2)]
    assert under(held.train, root) == [f"wav48_silence_trimmed/p227/p227_{u:03d}_mic{m}.flac"
                                       for u in (1, 2, 3) for m in (1, 2)]
    assert held.reason == ("10 of 16 files: every clip of 2 held-out speakers (--valid-speakers p225,p226) by their "
                           "folders, none trained on")


def test_a_libritts_speaker_is_its_folder_with_its_chapters_and_a_number_at_two_depths_is_refused(tmp_path):
    root = libritts(tmp_path / "LibriTTS")
    held = Corpus(folder=root, valid_speakers=["26"], cli=True).split(0)
    assert under(held.valid, root) == [f"train-clean-100/26/495/26_495_{u:06d}_000000.wav" for u in range(2)]
    assert not any("/26/" in f"/{k}" for k in under(held.train, root))
    with pytest.raises(HifiganError) as e:  # 19: speaker 19's folder, and speaker 103's chapter 19
        Corpus(folder=root, valid_speakers=["19"], cli=True).split(0)
    assert str(e.value) == (f"{root}: speaker '19' (--valid-speakers) names folders at 2 depths "
                            "(train-clean-100/103/19, train-clean-100/19): give its folder's path within the corpus, "
                            "e.g. train-clean-100/103/19")
    held = Corpus(folder=root, valid_speakers=["train-clean-100/19"], cli=True).split(0)
    assert under(held.valid, root) == sorted(f"train-clean-100/19/{c}/19_{c}_{u:06d}_000000.wav"
                                             for c in ("198", "227") for u in range(2))


def test_an_unknown_speaker_is_one_line_naming_it_and_the_closest_folder(tmp_path):
    root = vctk(tmp_path / "VCTK")
    with pytest.raises(HifiganError) as e:
        Corpus(folder=root, valid_speakers=["p225", "p229", "p999x"], cli=True).lists()
    assert str(e.value) == (f"2 of 3 inputs are bad (nothing was written): {root}: no speaker 'p229' "
                            "(--valid-speakers): no folder of that name holds a clip (a speaker is the folder of its "
                            "clips); did you mean 'p227'? | "
                            f"{root}: no speaker 'p999x' (--valid-speakers): no folder of that name holds a clip (a "
                            "speaker is the folder of its clips)")
    with pytest.raises(HifiganError, match=r"no speaker 'p225_001_mic1\.flac'"):  # a file's name is no folder
        Corpus(folder=root, valid_speakers=["p225_001_mic1.flac"], cli=True).lists()


def test_speakers_exclude_the_list_and_the_draw(tmp_path):
    corpus = Corpus(folder=tmp_path, valid_speakers=["p225"], valid_cap=10, valid_fraction=0.1)
    assert [str(p) for p in corpus.conflicts()] == [
        f"Corpus.valid_speakers and Corpus.{k} exclude each other (a held-out speaker is held out whole: every clip "
        "of theirs validates)" for k in ("valid_fraction", "valid_cap")]
    assert [str(p) for p in Corpus(folder=tmp_path, valid_speakers=[]).conflicts()] == [
        "Corpus.valid_speakers names no speaker: name 1 or more to hold out"]


def test_a_corpus_of_held_out_speakers_alone_is_refused(tmp_path):
    root = vctk(tmp_path / "VCTK")
    with pytest.raises(HifiganError, match=r"^every clip is a held-out speaker's \(--valid-speakers p225,p226,p227\): "
                                           "none is left to train on$"):
        Corpus(folder=root, valid_speakers=list(VCTK), cli=True).split(0)


def test_a_resume_keeps_the_speakers_held_out_and_their_clips_added_since(tmp_path):
    root = vctk(tmp_path / "VCTK")
    corpus = Corpus(folder=root, valid_speakers=["p226"], cli=True)
    first = corpus.split(7)
    stored = corpus.keys(first.valid)
    new = clip(root / "wav48_silence_trimmed" / "p226" / "p226_003_mic1.flac")  # recorded since
    other = clip(root / "wav48_silence_trimmed" / "p227" / "p227_004_mic1.flac")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        held = keep_held_out(corpus, corpus.split(7), stored)
    assert held.valid == sorted([*first.valid, new]) and other in held.train
    assert not {f for f in held.train if "/p226/" in f.as_posix()}
    assert [str(w.message) for w in caught] == [
        "1 file of the held-out speakers (--valid-speakers p226) is not among the run's held-out files "
        "(wav48_silence_trimmed/p226/p226_003_mic1.flac): held out too, not trained on; val/mel_l1 now averages over "
        "5, not the set of its earlier values"]


def test_a_segments_corpus_holds_out_a_speaker_by_its_recordings_folder_and_counts_segments(tmp_path):
    """A Kaldi segment is its recording's speaker's (the folder of the recording); the line counts segments."""
    for speaker in ("spk1", "spk2"):
        sf.write(clip(tmp_path / "wavs" / speaker / "rec.wav"), np.full(16000, 0.1, np.float32), 8000)
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("r1 wavs/spk1/rec.wav\nr2 wavs/spk2/rec.wav\n")
    (data / "segments").write_text("a r1 0 0.5\nb r1 0.5 1\nc r2 0 0.5\nd r2 0.5 1\ne r2 1 1.5\n")
    held = Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spk2"], cli=True).split(1234)
    assert sorted(c.utt for c in held.valid) == ["c", "d", "e"] and sorted(c.utt for c in held.train) == ["a", "b"]
    assert held.reason == ("3 of 5 segments: every clip of 1 held-out speaker (--valid-speakers spk2) by their "
                           "folders, none trained on")


def test_a_python_caller_is_shown_its_speakers_as_a_list_and_a_name_with_a_comma_is_refused(tmp_path):
    """Corpus(valid_speakers=[...]): a refused resume and the added-since warning show the list a Python caller
    gives, not the option's spelling; a name holding ',' is refused where given (a checkpoint spells the names with
    commas, so a resume would split it)."""
    from hifigan.training.job import data_spec
    from hifigan.training.options import TrainJob

    root = vctk(tmp_path / "VCTK")
    run = {"data": {"corpus": str(root), "valid_speakers": "p225,p227"}}
    with pytest.raises(HifiganError) as e:
        data_spec(TrainJob(data=Corpus(folder=root, valid_speakers=["p225"]), resume=tmp_path / "run"), run)
    assert str(e.value).endswith("these fields differ: Corpus(valid_speakers=['p225']) (the run's: ['p225', "
                                 "'p227']) (start a new run with out to change them)")
    corpus = Corpus(folder=root, valid_speakers=["p226"])
    stored = corpus.keys(corpus.split(7).valid)
    clip(root / "wav48_silence_trimmed" / "p226" / "p226_003_mic1.flac")
    with pytest.warns(UserWarning, match=r"^1 file of the held-out speakers \(Corpus\(valid_speakers=\['p226'\]\)\) "):
        keep_held_out(corpus, corpus.split(7), stored)
    assert [str(p) for p in Corpus(folder=root, valid_speakers=["p225", "a,b"]).conflicts()] == [
        "Corpus.valid_speakers: speaker 'a,b' holds a ',' (a checkpoint stores the names separated by commas): "
        "rename its folder"]


def test_the_validation_line_names_ten_speakers_whole_and_of_more_the_first_five(tmp_path):
    """A universal vocoder may hold out hundreds of a corpus's thousands of speakers: the line counts them all and
    names a few, where it wrote every name."""
    for n in range(12):
        clip(tmp_path / f"s{n:02d}" / "a.wav")
    ten = [f"s{n:02d}" for n in range(9, -1, -1)]  # given unsorted
    held = Corpus(folder=tmp_path, valid_speakers=ten, cli=True).split(0)
    assert held.reason == ("10 of 12 files: every clip of 10 held-out speakers (--valid-speakers "
                           "s00,s01,s02,s03,s04,s05,s06,s07,s08,s09) by their folders, none trained on")
    eleven = [*ten, "s10"]
    held = Corpus(folder=tmp_path, valid_speakers=eleven, cli=True).split(0)
    assert held.reason == ("11 of 12 files: every clip of 11 held-out speakers (--valid-speakers "
                           "s00,s01,s02,s03,s04,...) by their folders, none trained on")
    held = Corpus(folder=tmp_path, valid_speakers=eleven, cli=False).split(0)
    assert held.reason == ("11 of 12 files: every clip of 11 held-out speakers (Corpus(valid_speakers=['s00', 's01', "
                           "'s02', 's03', 's04', ...])) by their folders, none trained on")
    assert under(held.train, tmp_path) == ["s11/a.wav"]


def test_holding_out_hundreds_of_speakers_of_a_large_corpus_splits_by_folder_and_names_a_few():
    """500 speakers of 60,000 clips, one named by its path: each held-out clip is its speaker's, the line names a
    few. What it costs is benchmarks/speaker_split.py's (it took a minute of CPU when each name parsed every path)."""
    keys = [f"train/{s}/{c}/{s}_{c}_{u}.wav" for s in range(2000) for c in range(3) for u in range(10)]
    names = [str(s) for s in range(1996, 0, -4)]  # 499 speakers, and one by its path: train/1/
    files = [Path("/corpus") / k for k in keys]
    assert speaker_problems(keys, [*names, "train/1"], None, True) == []
    train, valid, reason = speakers_held_out(files, keys, [*names, "train/1"], True)
    assert len(valid) == 500 * 30 and len(train) == 60000 - 500 * 30
    assert valid[:2] == [Path("/corpus/train/1/0/1_0_0.wav"), Path("/corpus/train/1/0/1_0_1.wav")]
    assert reason.startswith("15000 of 60000 files: every clip of 500 held-out speakers (--valid-speakers "
                             "100,1000,1004,1008,1012,...)")


def test_a_resume_given_other_speakers_among_hundreds_says_how_many_differ_and_names_a_few(tmp_path):
    """Where the run held out or the resume names more than 10 speakers, the refusal counts each side's speakers
    the other lacks and names the first few, where it wrote both lists whole."""
    from hifigan.training.job import data_spec
    from hifigan.training.options import TrainJob

    for n in range(30):
        clip(tmp_path / "c" / f"s{n:02d}" / "a.wav")
    run = {"data": {"corpus": str(tmp_path / "c"), "valid_speakers": ",".join(f"s{n:02d}" for n in range(0, 24, 2))}}
    given = [f"s{n:02d}" for n in range(0, 30, 3)]  # 10: s00, s03, ..., s27; the run's 12: s00, s02, ..., s22
    with pytest.raises(HifiganError) as e:
        data_spec(TrainJob(data=Corpus(folder=tmp_path / "c", valid_speakers=given, cli=True), resume=tmp_path,
                           cli=True), run)
    assert str(e.value).endswith("these options differ: --valid-speakers s00,s03,s06,s09,s12,s15,s18,s21,s24,s27 (10 "
                                 "speakers; the run's: 12 speakers, 8 of them not given: s02, s04, s08, ...; 6 given "
                                 "that are not the run's: s03, s09, s15, ...) (start a new run with --out to change "
                                 "them)")
    with pytest.raises(HifiganError) as e:
        data_spec(TrainJob(data=Corpus(folder=tmp_path / "c", valid_speakers=given[:1]), resume=tmp_path), run)
    assert str(e.value).endswith("these fields differ: Corpus(valid_speakers=['s00']) (1 speaker; the run's: 12 "
                                 "speakers, 11 of them not given: s02, s04, s06, ...) (start a new run with out to "
                                 "change them)")
