"""A Kaldi / ESPnet `segments` file beside a wav.scp: its utterances are the clips, each cut by sample from its
recording (times rounded to the nearest sample, an end up to 0.5 s past cut at the recording's end, -1 to the end),
held out and resumed by utterance id, cached by recording and span; every bad line named in one error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.corpus import read_filelist
from hifigan.data.segments import Segment, load_clip
from tests.support.cli_runs import one_line, run

RATE = 8000


def _data_folder(root: Path, segments: str) -> Path:
    """Two recordings (2 s and 1 s of int16 noise at 8 kHz) under root/wavs, a data folder root/data/train with a
    wav.scp of their relative paths and `segments`; the wav.scp."""
    rng = np.random.default_rng(0)
    (root / "wavs").mkdir(parents=True)
    for name, seconds in (("rec1", 2), ("rec2", 1)):
        samples = (rng.standard_normal(RATE * seconds) * 6000).astype(np.int16)
        sf.write(root / "wavs" / f"{name}.wav", samples, RATE, subtype="PCM_16")
    data = root / "data" / "train"
    data.mkdir(parents=True)
    (data / "wav.scp").write_text("rec1 wavs/rec1.wav\nrec2 wavs/rec2.wav\n")
    (data / "segments").write_text(segments)
    return data / "wav.scp"


SEGMENTS = "u1 rec1 0 0.5\nu2 rec1 0.5 1.001\nu3 rec2 0.25 -1\n\nu4 rec1 1.2 2.3\n"


def test_the_segments_are_the_clips_each_cut_by_sample_from_its_recording(tmp_path):
    """1.001 s x 8000 is 8007.999... in floats: rounded, u2 ends at sample 8008 (truncated, 8007); u3 runs to
    rec2's end (-1); u4 ends 0.3 s past rec1 (within Kaldi's 0.5 s) and is cut at its end."""
    scp = _data_folder(tmp_path, SEGMENTS)
    clips = read_filelist(scp, tmp_path)
    assert [(c.recording, c.utt, c.start, c.end, c.line) for c in clips] == [
        (tmp_path / "wavs" / "rec1.wav", "u1", 0.0, 0.5, 1), (tmp_path / "wavs" / "rec1.wav", "u2", 0.5, 1.001, 2),
        (tmp_path / "wavs" / "rec2.wav", "u3", 0.25, -1.0, 3), (tmp_path / "wavs" / "rec1.wav", "u4", 1.2, 2.3, 5)]
    recordings = {n: sf.read(tmp_path / "wavs" / f"{n}.wav", dtype="int16")[0] / 32768 for n in ("rec1", "rec2")}
    spans = {"u1": ("rec1", 0, 4000), "u2": ("rec1", 4000, 8008), "u3": ("rec2", 2000, 8000),
             "u4": ("rec1", 9600, 16000)}
    for clip in clips:
        name, first, last = spans[clip.utt]
        audio = load_clip(clip, RATE, resample=False, mix_to_mono=False, cli=True)
        assert audio.dtype == np.float32 and audio.shape == (last - first,)
        np.testing.assert_array_equal(audio, recordings[name][first:last].astype(np.float32))
    assert str(clips[2]) == f"{tmp_path / 'wavs' / 'rec2.wav'}[u3 0.25-end s]"
    assert sorted([clips[3], tmp_path / "wavs" / "rec1.wav", clips[0]]) == [
        tmp_path / "wavs" / "rec1.wav", clips[0], clips[3]]  # a recording's segments after it, by start


@pytest.mark.usefixtures("single_thread")
def test_a_run_on_segments_holds_out_by_utterance_id_and_resumes_reading_nothing(tmp_path, capsys,
                                                                                 tiny_config_json):
    """The scan line counts the segments and their recordings; the checkpoint names the held-out utterance by its
    id; the resume reads no clip again."""
    scp = _data_folder(tmp_path, SEGMENTS)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", scp, "--wav-root", tmp_path, "--config", tiny_config_json,
                       "-o", out, "--valid-count", 1, "--max-steps", 0, "--validation-interval", 0, "--no-progress")
    segments = scp.parent / "segments"
    assert code == 0 and f"scan: 4 clips (4 segments of 2 recordings, from {segments}), 4 read, 0 unchanged (" in err
    assert "usable audio 2.6 s" in err and "training set: 3 clips; validation set: 1 clip" in err, err
    assert "validation: 1 of 4 segments (--valid-count)\n" in err, err  # they said '4 files' (2 files: recordings)
    held = read_checkpoint(out / "checkpoints" / "latest.pt")["data"]["held_out"]
    assert len(held) == 1 and held[0] in {"u1", "u2", "u3", "u4"}
    code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 1, "--no-progress")
    assert code == 0 and "0 read, 4 unchanged" in err and "usable audio 2.6 s, 0." in err, err
    assert "validation: the run's 1 held-out segment, from its checkpoint" in err, err
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["data"]["held_out"] == held


@pytest.mark.usefixtures("single_thread")
def test_a_segment_too_short_to_train_on_is_counted_as_a_segment(tmp_path, capsys, tiny_config_json):
    """u5 is 40 samples, fewer than the tiny config's n_fft: skipped (its warning) and never held out, each said of
    a segment, not a file."""
    scp = _data_folder(tmp_path, SEGMENTS + "u5 rec2 0 0.005\n")
    with pytest.warns(UserWarning) as said:
        code, _, err = run(capsys, "train", "--train-list", scp, "--wav-root", tmp_path, "--config",
                           tiny_config_json, "-o", tmp_path / "run", "--valid-count", 1, "--max-steps", 0,
                           "--validation-interval", 0, "--no-progress")
    assert code == 0 and "validation: 1 of 4 segments (--valid-count); 1 unusable segment never held out\n" in err
    warned = [str(w.message) for w in said]
    assert any(m.startswith("training set: skipped 1 segment too short to train on: ") and
               "(every skipped segment, with why: " in m for m in warned), warned


def test_every_bad_segments_line_is_named_in_one_error(tmp_path, capsys, tiny_config_json):
    scp = _data_folder(tmp_path, "u1 rec1 0 0.5\nu2 rec1 0.5\nu3 rec1 a 1\nu4 rec1 1 1\nu5 rec9 0 1\nu1 rec2 0 1\n"
                                 "u6 rec1 nan 1\nu7 rec1 0 0.5\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", scp, "--wav-root", tmp_path, "--config", tiny_config_json,
                       "-o", out)
    assert code == 2 and not out.exists()
    seg = scp.parent / "segments"
    assert one_line(err) == (
        "hifigan train: error: 7 of 8 inputs are bad (nothing was written): "
        f"{seg}: line 2: 3 fields, expected 4: 'utt-id rec-id start end' (seconds; a channel field is not read: "
        "hifigan trains on mono recordings) | "
        f"{seg}: line 3: 'u3': the times 'a' '1' are not both numbers (seconds) | "
        f"{seg}: line 4: 'u4' ends at 1 s, not after its start 1 s (an end of -1: to the recording's end) | "
        f"{seg}: line 5: 'u5' is of recording 'rec9', which the wav.scp beside it does not list | "
        f"{seg}: line 6: utterance id 'u1' is on line 1 too (give each segment its own) | "
        f"{seg}: line 7: 'u6': the times 'nan' '1' are not seconds from the recording's start | "
        f"{seg}: line 8: 'u7' is the segment of line 1 ('u1') under another id (list each clip once)")


def test_a_segment_outside_its_recording_stops_the_scan_naming_its_line(tmp_path, capsys, tiny_config_json):
    """rec2 is 1 s long: an end 0.6 s past it, or a start at its end, is refused by line (the scan knows the
    length); the other segments scan, and the cache keeps them."""
    scp = _data_folder(tmp_path, "u1 rec1 0 0.5\nu2 rec1 0.5 1\nu3 rec2 0.5 1.6\nu4 rec2 1 1.2\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", scp, "--wav-root", tmp_path, "--config", tiny_config_json,
                       "-o", out, "--no-progress")
    seg, rec2 = scp.parent / "segments", tmp_path / "wavs" / "rec2.wav"
    assert code == 2 and one_line(err).endswith(
        f"2 of 4 inputs are bad (nothing was written but the scan cache, kept for the next try): "
        f"{seg}: line 3: 'u3' ends at 1.6 s, past the end of its recording {rec2} (1 s; up to 0.5 s past is cut "
        f"there, as Kaldi does) | {seg}: line 4: 'u4' starts at 1 s, at or past the end of its recording {rec2} "
        "(1 s)"), err
    assert isinstance(read_filelist(scp, tmp_path)[0], Segment)


def test_an_utterance_id_of_both_lists_is_held_out_for_one_clip_and_refused_for_two(tmp_path):
    """The same id for the same segment (or file) in the validation folder: held out, not trained on; for
    another clip: refused naming both lines (a held-out segment is known by its id)."""
    from hifigan.data.corpus import Corpus
    from hifigan.errors import HifiganError

    scp = _data_folder(tmp_path, "u1 rec1 0 0.5\nu2 rec1 0.5 1\nu3 rec2 0 1\n")
    dev = tmp_path / "data" / "dev"
    dev.mkdir()
    (dev / "wav.scp").write_text("rec1 wavs/rec1.wav\n")
    (dev / "segments").write_text("u0 rec1 1 2\nu2 rec1 0.5 1\n")
    corpus = Corpus(train_list=scp, valid_list=dev / "wav.scp", wav_root=tmp_path)
    held = corpus.split(seed=0)
    assert [c.utt for c in held.valid] == ["u0", "u2"] and [c.utt for c in held.train] == ["u1", "u3"]
    assert held.reason.endswith(f"1 of them is in {scp} too, held out and not trained on")
    (dev / "segments").write_text("u0 rec1 1 2\nu2 rec1 0.5 0.9\n")
    with pytest.raises(HifiganError) as refused:
        corpus.split(seed=0)
    rec1 = tmp_path / "wavs" / "rec1.wav"
    assert str(refused.value) == (
        f"{dev / 'segments'}: line 2: utterance id 'u2' is on line 2 of {scp.parent / 'segments'} too, for another "
        f"clip ({rec1}[u2 0.5-1 s] there, {rec1}[u2 0.5-0.9 s] here): ids are keys; give each clip its own")
    (dev / "segments").unlink()
    (dev / "wav.scp").write_text("u7 wavs/rec2.wav\n")
    scp.parent.joinpath("segments").unlink()
    scp.write_text("u7 wavs/rec1.wav\nu8 wavs/rec2.wav\n")
    with pytest.raises(HifiganError) as refused:  # plain wav.scps alike
        corpus.split(seed=0)
    assert str(refused.value).startswith(f"{dev / 'wav.scp'}: line 1: utterance id 'u7' is on line 1 of {scp} too")
