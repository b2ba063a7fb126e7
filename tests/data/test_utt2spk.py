"""Held-out speakers by a Kaldi utt2spk beside the wav.scp: its speakers, not the clips' folders, name what is held
out (a segment's by its id), its bad lines are refused each by line as Kaldi's validate_data_dir.sh would refuse
them, and without --valid-speakers it is not read."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.corpus import Corpus
from hifigan.data.resumed_split import keep_held_out
from hifigan.errors import HifiganError


def kaldi_dir(root: Path, utt2spk: str | None, segments: str | None = None, spk2utt: str | None = None) -> Path:
    """data/ with wav.scp (r1..r4: wavs/a.wav..d.wav, one folder), and each of utt2spk, segments and spk2utt that is
    given."""
    (root / "wavs").mkdir(parents=True, exist_ok=True)
    for name in "abcd":
        sf.write(root / "wavs" / f"{name}.wav", np.full(16000, 0.1, np.float32), 8000)
    data = root / "data"
    data.mkdir(exist_ok=True)
    (data / "wav.scp").write_text("".join(f"r{i} wavs/{n}.wav\n" for i, n in enumerate("abcd", 1)))
    for name, text in (("utt2spk", utt2spk), ("segments", segments), ("spk2utt", spk2utt)):
        if text is not None:
            (data / name).write_text(text)
    return data


def test_utt2spk_names_the_speakers_not_the_folder(tmp_path):
    data = kaldi_dir(tmp_path, "r1 spkA\nr2 spkB\n\nr3 spkA\nr4 spkC\n")
    corpus = Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkA"], cli=True)
    held = corpus.split(0)
    assert held.valid == [tmp_path / "wavs" / "a.wav", tmp_path / "wavs" / "c.wav"]
    assert held.train == [tmp_path / "wavs" / "b.wav", tmp_path / "wavs" / "d.wav"]
    assert held.reason == (f"2 of 4 files: every clip of 1 held-out speaker (--valid-speakers spkA) by {data}/utt2spk, "
                           "none trained on")
    with pytest.raises(HifiganError) as e:  # the folder is no speaker where utt2spk names them
        Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["wavs", "spkD"], cli=True).lists()
    assert str(e.value) == (f"2 of 10 inputs are bad (nothing was written): {data}/utt2spk: no speaker 'wavs' "
                            "(--valid-speakers): no utterance is that speaker's (utt2spk beside the wav.scp names the "
                            f"speakers) | {data}/utt2spk: no speaker 'spkD' (--valid-speakers): no utterance is that "
                            "speaker's (utt2spk beside the wav.scp names the speakers); did you mean 'spkC'?")


def test_a_segments_utterance_is_its_own_speakers(tmp_path):
    """Two speakers in one recording (a dialogue): each segment is held out by its own id's speaker."""
    data = kaldi_dir(tmp_path, "s1 spkA\ns2 spkB\ns3 spkA\ns4 spkB\n",
                     segments="s1 r1 0 0.5\ns2 r1 0.5 1\ns3 r2 0 1\ns4 r3 0 1\n")
    held = Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkB"], cli=False).split(0)
    assert [c.utt for c in held.valid] == ["s2", "s4"] and [c.utt for c in held.train] == ["s1", "s3"]
    assert held.reason == (f"2 of 4 segments: every clip of 1 held-out speaker (Corpus(valid_speakers=['spkB'])) by "
                           f"{data}/utt2spk, none trained on")


def test_every_bad_line_of_utt2spk_and_every_utterance_it_lacks_is_named(tmp_path):
    data = kaldi_dir(tmp_path, "r1 spkA\nr2 spkB extra\nr1 spkC\nr9 spkA\nr3 spkA\n")
    with pytest.raises(HifiganError) as e:
        Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkA"], cli=True).lists()
    fix = "(Kaldi's validate_data_dir.sh refuses it too; utils/fix_data_dir.sh drops it)"
    assert str(e.value).split(" | ") == [
        f"4 of 10 inputs are bad (nothing was written): {data}/utt2spk: line 2: 3 fields, expected 2: 'utt-id "
        "speaker-id'",
        f"{data}/utt2spk: line 3: utterance id 'r1' is on line 1 too (give each utterance one speaker)",
        f"{data}/utt2spk: line 4: utterance id 'r9' is not in {data}/wav.scp {fix}",
        f"{data}/wav.scp: line 4: utterance id 'r4' has no speaker in {data}/utt2spk {fix}"]
    data = kaldi_dir(tmp_path / "seg", "s1 spkA\n", segments="s1 r1 0 0.5\ns2 r1 0.5 1\n")
    with pytest.raises(HifiganError, match=rf"^{data}/segments: line 2: utterance id 's2' has no speaker in "):
        Corpus(train_list=data / "wav.scp", wav_root=tmp_path / "seg", valid_speakers=["spkA"], cli=True).lists()
    assert len(Corpus(train_list=data / "wav.scp", wav_root=tmp_path / "seg", cli=True).split(0).valid) == 1


def test_spk2utt_names_the_speakers_where_there_is_no_utt2spk(tmp_path):
    data = kaldi_dir(tmp_path, None, spk2utt="spkA r1 r3\nspkB r2\n\nspkC r4\n")
    held = Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkA"], cli=True).split(0)
    assert held.valid == [tmp_path / "wavs" / "a.wav", tmp_path / "wavs" / "c.wav"]
    assert held.reason == (f"2 of 4 files: every clip of 1 held-out speaker (--valid-speakers spkA) by {data}/spk2utt, "
                           "none trained on")
    with pytest.raises(HifiganError) as e:
        Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkD"], cli=True).lists()
    assert str(e.value) == (f"{data}/spk2utt: no speaker 'spkD' (--valid-speakers): no utterance is that speaker's "
                            "(spk2utt beside the wav.scp names the speakers); did you mean 'spkC'?")
    data = kaldi_dir(tmp_path / "both", "r1 spkA\nr2 spkB\nr3 spkB\nr4 spkC\n", spk2utt="spkA r1 r3\nspkB r2\n")
    held = Corpus(train_list=data / "wav.scp", wav_root=tmp_path / "both", valid_speakers=["spkB"], cli=True).split(0)
    assert held.valid == [tmp_path / "both" / "wavs" / "b.wav", tmp_path / "both" / "wavs" / "c.wav"]  # utt2spk's


def test_every_bad_line_of_spk2utt_is_named(tmp_path):
    data = kaldi_dir(tmp_path, None, spk2utt="spkA r1 r9\nspkB\nspkC r1 r2 r2\n")
    with pytest.raises(HifiganError) as e:
        Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkA"], cli=True).lists()
    fix = "(Kaldi's validate_data_dir.sh refuses it too; utils/fix_data_dir.sh drops it)"
    assert str(e.value).split(" | ") == [
        f"6 of 8 inputs are bad (nothing was written): {data}/spk2utt: line 1: utterance id 'r9' is not in "
        f"{data}/wav.scp {fix}",
        f"{data}/spk2utt: line 2: 1 field, expected 2 or more: 'speaker-id utt-id utt-id ...'",
        f"{data}/spk2utt: line 3: utterance id 'r1' is on line 1 too (give each utterance one speaker)",
        f"{data}/spk2utt: line 3: utterance id 'r2' is twice on line 3 (give each utterance one speaker)",
        f"{data}/wav.scp: line 3: utterance id 'r3' has no speaker in {data}/spk2utt {fix}",
        f"{data}/wav.scp: line 4: utterance id 'r4' has no speaker in {data}/spk2utt {fix}"]


def test_a_resume_holds_out_an_utterance_added_since_of_a_held_out_speaker(tmp_path):
    data = kaldi_dir(tmp_path, "r1 spkA\nr2 spkB\nr3 spkA\nr4 spkC\n")
    corpus = Corpus(train_list=data / "wav.scp", wav_root=tmp_path, valid_speakers=["spkB"], cli=True)
    stored = corpus.keys(corpus.split(0).valid)
    sf.write(tmp_path / "wavs" / "e.wav", np.full(16000, 0.1, np.float32), 8000)
    with open(data / "wav.scp", "a") as f:
        f.write("r5 wavs/e.wav\n")
    (data / "utt2spk").write_text("r1 spkA\nr2 spkB\nr3 spkA\nr4 spkC\nr5 spkB\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        held = keep_held_out(corpus, corpus.split(0), stored)
    assert held.valid == [tmp_path / "wavs" / "b.wav", tmp_path / "wavs" / "e.wav"]
    assert held.reason == ("the run's 1 held-out file, from its checkpoint, and 1 added to the held-out speakers "
                           "(--valid-speakers spkB) since")
    assert [str(w.message) for w in caught] == [
        "1 file of the held-out speakers (--valid-speakers spkB) is not among the run's held-out files (wavs/e.wav): "
        "held out too, not trained on; val/mel_l1 now averages over 2, not the set of its earlier values"]
