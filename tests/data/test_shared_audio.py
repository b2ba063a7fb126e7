"""A training clip that holds some of a validation clip's audio without being that clip (a Kaldi segment of a
recording the validation wav.scp lists whole, or the reverse; overlapping segments of one recording) is held out with
it, as a clip in both lists is, and the validation line counts it and names the first; touching spans share none. So
is a training segment that overlaps a drawn held-out one, or a held-out speaker's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.corpus import Corpus
from hifigan.errors import HifiganError
from tests.support.cli_runs import run

RATE = 8000


def _kaldi(root: Path, train_segments: str | None, dev_segments: str | None) -> tuple[Path, Path]:
    """Two recordings (2 s and 1 s of noise) under root/wavs and the data folders data/train and data/dev, each a
    wav.scp with its `segments` where given, of both recordings; else its recordings are the clips, dev's rec1
    alone: the wav.scps."""
    rng = np.random.default_rng(0)
    (root / "wavs").mkdir(parents=True)
    for name, seconds in (("rec1", 2), ("rec2", 1)):
        sf.write(root / "wavs" / f"{name}.wav", (rng.standard_normal(RATE * seconds) * 6000).astype(np.int16), RATE,
                 subtype="PCM_16")
    scps = []
    parts = (("train", train_segments, "rec1 rec2"), ("dev", dev_segments, "rec1 rec2" if dev_segments else "rec1"))
    for part, segments, recordings in parts:
        folder = root / "data" / part
        folder.mkdir(parents=True)
        (folder / "wav.scp").write_text("".join(f"{r} wavs/{r}.wav\n" for r in recordings.split()))
        if segments is not None:
            (folder / "segments").write_text(segments)
        scps.append(folder / "wav.scp")
    return scps[0], scps[1]


TRAIN = "u1 rec1 0 0.5\nu2 rec1 0.5 1\nu3 rec1 1 -1\nu4 rec2 0 1\n"


def _split(root: Path, train: Path, dev: Path) -> tuple[list[str], str]:
    held = Corpus(train_list=train, valid_list=dev, wav_root=root).split(0)
    return [getattr(c, "utt", Path(c).name) for c in held.train], held.reason


def test_segments_of_a_recording_validated_whole_are_held_out(tmp_path):
    train, dev = _kaldi(tmp_path, TRAIN, None)
    assert _split(tmp_path, train, dev) == (["u4"], f"1 file of {dev} (Corpus.valid_list); 3 segments of {train} hold "
                                                    "some of their audio (u1, u2, u3), held out and not trained on")


def test_segments_overlapping_a_validation_segment_are_held_out_and_touching_ones_trained(tmp_path):
    train, dev = _kaldi(tmp_path, TRAIN, "v1 rec1 0.25 0.75\nv2 rec2 0.999 -1\n")
    assert _split(tmp_path, train, dev) == (["u3"], f"2 segments of {dev} (Corpus.valid_list); 3 segments of {train} "
                                                    "hold some of their audio (u1, u2, u4), held out and not trained "
                                                    "on")
    (dev.parent / "segments").write_text("v1 rec1 0.5 1\n")  # u2 itself: in both; u1 and u3 only touch it
    assert _split(tmp_path, train, dev) == (["u1", "u3", "u4"], f"1 segment of {dev} (Corpus.valid_list); 1 of them is "
                                                                f"in {train} too, held out and not trained on")


def test_a_recording_trained_whole_that_a_validation_segment_cuts_is_held_out(tmp_path):
    train, dev = _kaldi(tmp_path, None, "v1 rec1 1.5 2\n")
    assert _split(tmp_path, train, dev) == (["rec2.wav"], f"1 segment of {dev} (Corpus.valid_list); 1 file of {train} "
                                                          "holds some of their audio (" + str(tmp_path / "wavs" /
                                                          "rec1.wav") + "), held out and not trained on")


def test_none_left_to_train_on_is_refused_saying_why(tmp_path):
    train, dev = _kaldi(tmp_path, "u1 rec1 0 0.5\nu2 rec1 0.5 1\n", "v1 rec1 0.4 0.6\n")
    with pytest.raises(HifiganError) as e:
        Corpus(train_list=train, valid_list=dev, wav_root=tmp_path).split(0)
    assert str(e.value) == (f"{train}: all 2 segments it lists are in {dev} too or hold some of its audio (held out, "
                            "so none is left to train on): Corpus.valid_list takes the validation files only")


@pytest.mark.usefixtures("single_thread")
def test_train_on_kaldi_lists_says_what_it_held_out(tmp_path, capsys, tiny_config_json):
    train, dev = _kaldi(tmp_path, TRAIN, "v1 rec1 0.25 0.75\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", train, "--valid-list", dev, "--wav-root", tmp_path,
                       "--config", tiny_config_json, "-o", out, "--max-steps", 0, "--validation-interval", 0,
                       "--no-progress")
    assert code == 0, err
    assert (f"validation: 1 segment of {dev} (--valid-list); 2 segments of {train} hold some of their audio (u1, "
            "u2), held out and not trained on\n") in err, err
    assert "training set: 2 clips; validation set: 1 clip" in err, err


def test_segments_overlapping_a_drawn_or_a_held_out_speakers_segment_are_held_out(tmp_path):
    """Sliding windows of one recording, and a dialogue's crosstalk: drawn or by speaker, a held-out segment's audio
    is in no training segment."""
    segments = "w1 rec1 0 0.6\nw2 rec1 0.4 1\nw3 rec1 1 1.5\nw4 rec1 1.2 2\nw5 rec2 0 1\n"
    train, _ = _kaldi(tmp_path, segments, None)
    held = Corpus(train_list=train, wav_root=tmp_path, valid_count=1).split(1)  # seed 1 draws w3
    assert [c.utt for c in held.valid] == ["w3"] and [c.utt for c in held.train] == ["w1", "w2", "w5"]
    assert held.reason.endswith("; 1 training segment holds some of their audio (w4), held out and not trained on")
    (train.parent / "utt2spk").write_text("w1 A\nw2 B\nw3 A\nw4 B\nw5 B\n")
    held = Corpus(train_list=train, wav_root=tmp_path, valid_speakers=["A"]).split(0)
    assert [c.utt for c in held.valid] == ["w1", "w3"] and [c.utt for c in held.train] == ["w5"]
    assert held.reason == (f"2 of 5 segments: every clip of 1 held-out speaker (Corpus(valid_speakers=['A'])) by "
                           f"{train.parent}/utt2spk, none trained on; 2 training segments hold some of their audio "
                           "(w2, w4), held out and not trained on")


def test_a_resume_holds_out_what_overlaps_its_own_held_out_segments_not_todays_draw(tmp_path):
    """A run that held out w1 (its checkpoint's list), resumed where today's draw takes w3: w2, over w1's audio, is
    held out, and w4, over w3's, trains, as the run trained it."""
    from hifigan.data.corpus_scan import scan_corpus
    from hifigan.data.scan_cache import gather_facts
    from hifigan.data.scan_row import ReadSettings
    from tests.support.tiny import tiny_config

    config = tiny_config(seed=1)  # seed 1 draws w3
    train, _ = _kaldi(tmp_path, "w1 rec1 0 0.6\nw2 rec1 0.4 1\nw3 rec1 1 1.5\nw4 rec1 1.2 2\nw5 rec2 0 1\n", None)
    corpus = Corpus(train_list=train, wav_root=tmp_path, valid_count=1)
    w1 = next(c for c in corpus.lists()[0] if c.utt == "w1")
    facts = lambda files: gather_facts(files, ReadSettings(config.sampling_rate), progress=False)  # noqa: E731
    assert [c.utt for c in scan_corpus(corpus, config, facts).held.valid] == ["w3"]
    held = scan_corpus(corpus, config, facts, held_out=corpus.keys([w1])).held
    assert [c.utt for c in held.valid] == ["w1"] and [c.utt for c in held.train] == ["w3", "w4", "w5"]
    assert held.reason == ("the run's 1 held-out segment, from its checkpoint; the options now would draw others; 1 "
                           "training segment holds some of their audio (w2), held out and not trained on")
