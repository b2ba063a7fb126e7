"""Teacher-forced mels against their audio (hifigan.data.mel_frames): the frame counts front-ends legitimately give
(the official T // hop, centred 1 + T // hop, a decoder's padding to a multiple of r, a duration sum a frame or two
short) pass; a mel more than 8 frames off its audio (another file) is refused alone; mels of another hop whose every
clip is within 8 frames are refused across the corpus, naming the hop they imply, through `hifigan train` too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.mel_frames import MelCount, hop_drift
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.errors import HifiganError
from tests.support.cli_runs import BINS, HOP, SR, refused_after_scan, run, tone, wav
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()  # hop 16, 8 kHz, 16 bins
LENGTHS = (400, 700, 1000, 1300, 1600, 1900, 2200, 2500, 2800, 3100)  # 25 to 194 frames at hop 16
MEL_HOP = HOP * 250 / 256  # hop 250 for a model of hop 256, at the tiny hop: 2.4% more frames


def corpus(tmp_path, frames_of, lengths=LENGTHS):
    """A clip of each length and its mel of frames_of(samples) frames: (the clips, the mel folder)."""
    (tmp_path / "wavs").mkdir()
    (mels := tmp_path / "mels").mkdir()
    clips = []
    for i, samples in enumerate(lengths):
        clips.append(wav(tmp_path / "wavs" / f"c{i}.wav", tone(samples)))
        np.save(mels / f"c{i}.npy", np.full((BINS, frames_of(samples)), -5.0, np.float32))
    return clips, mels


@pytest.mark.parametrize("frames_of", [
    lambda t: t // HOP,  # the official framing
    lambda t: 1 + t // HOP,  # centred: NVIDIA tacotron2, ESPnet, Coqui
    lambda t: -(-(1 + t // HOP) // 7) * 7,  # padded to a multiple of r = 7 (up to 7 more than t / hop)
    lambda t: (1 + t // HOP) - (1 + t // HOP) % 7,  # ESPnet's trim to a multiple of r = 7
    lambda t: t // HOP - 2,  # a duration sum, trailing silence trimmed
], ids=["official", "centred", "pad-to-r7", "trim-to-r7", "minus-2"])
def test_the_frame_counts_of_every_front_end_pass(tmp_path, frames_of):
    clips, mels = corpus(tmp_path, frames_of)
    assert [c.mel_path.name for c in quiet_scan(clips, input_mels=mels).clips] == [f"c{i}.npy" for i in range(10)]


def test_a_mel_more_than_8_frames_off_is_refused_alone_naming_both_counts(tmp_path):
    """1600 samples imply 100 frames: 108 and 92 pass, 109 and 91 do not (a mel of another file)."""
    frames = iter((108, 92, 109, 91))
    clips, mels = corpus(tmp_path, lambda _: next(frames), lengths=(1600,) * 4)
    with pytest.raises(HifiganError) as e:
        quiet_scan(clips, input_mels=mels)
    assert str(e.value).startswith("2 of 4 inputs are bad (nothing was written): ")
    for name, count in (("c2", 109), ("c3", 91)):
        assert (f"{mels / name}.npy: {count} frames, but its audio (1600 samples) implies 100 at hop 16 (up to 8 off "
                "is a front-end's framing): a mel of another hop, sample rate or file; remake it from this audio at "
                "hop 16 and 8000 Hz") in str(e.value)
    assert [c.mel_path.name for c in quiet_scan(clips[:2], input_mels=mels).clips] == ["c0.npy", "c1.npy"]


def test_another_files_mel_among_good_ones_is_named_not_taken_for_a_hop(tmp_path):
    clips, mels = corpus(tmp_path, lambda t: 1 + t // HOP)
    np.save(mels / "c1.npy", np.load(mels / "c6.npy"))  # c6's 138 frames for c1's 700 samples
    with pytest.raises(HifiganError) as e:
        quiet_scan(clips, input_mels=mels)
    assert str(e.value) == (f"{mels / 'c1.npy'}: 138 frames, but its audio (700 samples) implies 44 at hop 16 (up to 8 "
                            "off is a front-end's framing): a mel of another hop, sample rate or file; remake it "
                            "from this audio at hop 16 and 8000 Hz")


def test_mels_of_another_hop_are_refused_across_the_corpus_though_each_clip_passes_alone(tmp_path):
    clips, mels = corpus(tmp_path, lambda t: 1 + int(t // MEL_HOP))
    for clip in clips:  # each alone: within 8 frames (c9: 199 frames for 3100 samples, 193.75 at hop 16)
        assert len(quiet_scan([clip], input_mels=mels).clips) == 1
    with pytest.raises(HifiganError) as e:
        quiet_scan(clips, input_mels=mels)
    assert str(e.value) == (f"{mels}: across 10 clips the mels' frames grow 2.5% faster than their audio's samples "
                            "/ 16: they were made at hop 15.6 (or at another rate than 8000 Hz), not the model's 16, "
                            "e.g. c9.npy: 199 frames, but its audio (3100 samples) implies 194 at hop 16; remake them "
                            "from the audio at hop 16 and 8000 Hz, or train a config of their hop and rate")


def test_the_corpus_check_takes_training_and_held_out_mels_and_names_the_hop_they_imply(tmp_path):
    """Hop 15 for a model of hop 16 (6.7% more frames): held-out clips count with the training ones, and the clips
    more than 8 frames off are explained by the hop, not listed one by one."""
    _, mels = corpus(tmp_path, lambda t: 1 + t // 15)
    with pytest.raises(HifiganError) as e:
        scan_corpus(Corpus(tmp_path / "wavs", valid_count=2), CFG,
                    lambda files: gather_facts(files, ReadSettings(CFG.sampling_rate), progress=False),
                    input_mels=mels)
    assert str(e.value).startswith(f"{mels}: across 10 clips the mels' frames grow 6.7% faster than their audio's "
                                   "samples / 16: they were made at hop 15 (or at another rate than 8000 Hz)")


def test_train_refuses_mels_of_another_hop_in_one_line_before_writing(tmp_path, capsys, tiny_config_json):
    _, mels = corpus(tmp_path, lambda t: 1 + t // 15, lengths=[SR // 8 * k for k in range(2, 10)])
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", tmp_path / "wavs", "--config", tiny_config_json, "-o", out,
                       "--max-steps", 1, "--input-mels", mels)
    refused_after_scan(code, err, out, f"{mels}: across 8 clips", "made at hop 15", "c7.npy: 601 frames",
                   "remake them from the audio at hop 16 and 8000 Hz")


def test_a_corpus_of_clips_all_one_length_cannot_show_a_drift():
    """Clips cut to one length give no slope to fit (a division by zero, were it not checked): no drift said."""
    same = [MelCount(Path(f"c{i}.npy"), 1600 // HOP + 3, 1600) for i in range(10)]
    assert hop_drift(same, CFG, Path("mels")) is None


def test_mels_of_a_longer_hop_name_the_clip_furthest_short_of_its_audio():
    """A longer hop gives fewer frames: the mel furthest off falls furthest short, the longest clip, not the one
    least short."""
    mels = [MelCount(Path(f"c{i}.npy"), round(t / (HOP * 1.05)), t) for i, t in enumerate(LENGTHS)]
    error = hop_drift(mels, CFG, Path("mels"))
    assert error is not None and "slower" in str(error)
    assert f"e.g. c{len(LENGTHS) - 1}.npy: " in str(error)
