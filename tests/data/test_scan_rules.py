"""The scan's rules at their edges: too short (n_fft samples or fewer), clipping (more than 0.1% of the frames),
the absolute peak (teacher-forced mels against their audio: test_mel_frames.py); the
facts a cache or another rank hands over (renumbered, counted, rewritten when the file set changed, a damaged cache read
again); the corpus scan's stem check and a resumed run's held-out files."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.errors import HifiganError
from tests.support.files import write_clips
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()  # n_fft 64, hop 16, 8 kHz
SETTINGS = ReadSettings(CFG.sampling_rate)


def write(path, samples) -> object:
    sf.write(path, np.asarray(samples, dtype=np.int16), CFG.sampling_rate, subtype="PCM_16")
    return path


def tone(n: int, amplitude: int = 10000) -> np.ndarray:
    return np.round(amplitude * np.sin(np.arange(n) / 3)).astype(np.int16)


def test_a_clip_of_n_fft_samples_is_too_short_and_one_more_is_kept(tmp_path):
    at, above = write(tmp_path / "at.wav", tone(64)), write(tmp_path / "above.wav", tone(65))
    report = quiet_scan([at, above])
    assert [(c.path, c.num_samples) for c in report.clips] == [(above, 65)]
    assert report.short == [(at, "too short (64 samples, need more than 64)")] and report.skipped == []


def test_a_too_short_file_is_counted_as_too_short_not_as_unreadable(tmp_path):
    """A readable clip of one sample, beside a file that is not audio: the summary and the warnings tell them apart
    (a user told '2 unreadable or empty' looks for damaged files that are not there)."""
    short, garbage = write(tmp_path / "short.wav", tone(1)), tmp_path / "text.wav"
    garbage.write_text("not audio")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = scan_clips([short, garbage, write(tmp_path / "ok.wav", tone(200))], CFG, cli=True)
    assert report.summary("training set") == ("training set: 1 clip, 1 unreadable or empty skipped, 1 too short "
                                              "skipped")
    said = [str(w.message) for w in caught]
    assert f"training set: skipped 1 file too short to train on: {short} (too short (1 sample, need more than " \
           "64))" in said
    assert any(m.startswith(f"training set: skipped 1 unreadable or empty file: {garbage} (") for m in said)


def test_clipping_means_more_than_a_thousandth_of_the_frames_on_a_flat_top(tmp_path):
    """2000 frames of a half-scale tone with a flat top at 32767 of 2 frames (exactly 0.1%: kept quiet) or of 3
    frames (0.15%: named)."""
    files = []
    for top in (2, 3):
        samples = tone(2000, 16384)
        samples[1000 : 1000 + top] = 32767
        files.append(write(tmp_path / f"top{top}.wav", samples))
    assert [p.name for p in quiet_scan(files).clipping] == ["top3.wav"]


def test_the_peak_is_the_largest_magnitude_either_side_of_zero(tmp_path):
    """A file whose positive side stays below -60 dBFS but whose negative side reaches half scale is speech."""
    samples = np.full(400, 20, dtype=np.int16)
    samples[200] = -16384
    path = write(tmp_path / "negative.wav", samples)
    facts = gather_facts([path], SETTINGS, progress=False)
    assert facts.rows[0]["peak"] == 0.5
    assert [c.path for c in quiet_scan([path], facts=facts).clips] == [path]


def test_facts_of_other_files_are_refused_and_taken_ones_are_renumbered(tmp_path):
    good = write_clips(tmp_path, 2)
    (tmp_path / "garbage.wav").write_bytes(b"RIFF\x00\x00 not a wav file at all")
    (tmp_path / "empty.wav").write_bytes(b"")
    files = [good[0], tmp_path / "garbage.wav", good[1], tmp_path / "empty.wav"]
    facts = gather_facts(files, SETTINGS, progress=False)
    assert sorted(facts.problems) == [1, 3]
    with pytest.raises(HifiganError, match="facts for 4 files, 3 files given"):
        quiet_scan(files[:3], facts=facts)
    taken = facts.take([3, 2, 1])
    assert taken.problems == {0: facts.problems[3], 2: facts.problems[1]}
    assert np.array_equal(taken.rows, facts.rows[[3, 2, 1]])
    report = quiet_scan([files[3], files[2], files[1]], facts=taken)
    assert report.skipped == [(files[3], facts.problems[3]), (files[1], facts.problems[1])]


def test_the_cache_is_rewritten_when_a_file_leaves_and_a_damaged_one_is_read_again(tmp_path):
    files = write_clips(tmp_path / "c", 3)
    cache = tmp_path / "scan-cache.npz"
    assert gather_facts(files, SETTINGS, cache, progress=False).changed
    assert not gather_facts(files, SETTINGS, cache, progress=False).changed
    fewer = gather_facts(files[:2], SETTINGS, cache, progress=False)
    assert fewer.read == 0 and fewer.changed  # nothing read, but the cache still names the third file
    assert not gather_facts(files[:2], SETTINGS, cache, progress=False).changed  # ... no longer
    with np.load(cache) as stored:
        parts = {k: stored[k] for k in stored.files}
    with open(cache, "wb") as out:  # two paths, one row: not a cache this version wrote
        np.savez(out, **{**parts, "rows": parts["rows"][:1]})
    again = gather_facts(files[:2], SETTINGS, cache, progress=False)
    assert again.read == 2 and again.changed


def test_teacher_forced_mels_are_refused_for_one_stem_in_two_formats(tmp_path):
    """clip00.wav and clip00.flac would both train against mels/clip00.npy."""
    folder = tmp_path / "wavs"
    paths = write_clips(folder, 2)
    sf.write(folder / "clip00.flac", sf.read(paths[0], dtype="int16")[0], CFG.sampling_rate)
    with pytest.raises(HifiganError, match=r"clip00\.wav: has the stem of .*clip00\.flac"):
        scan_corpus(Corpus(folder=folder, valid_count=1), CFG, lambda f: gather_facts(f, SETTINGS, progress=False),
                    input_mels=tmp_path)


def test_a_resumed_run_validates_on_its_own_held_out_files(tmp_path, tiny_corpus):
    folder = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, folder)
    corpus = Corpus(folder=folder, valid_count=1)
    drawn = corpus.split(CFG.seed).valid
    kept = next(p for p in sorted(folder.iterdir()) if p not in drawn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scanned = scan_corpus(corpus, CFG, lambda f: gather_facts(f, SETTINGS, progress=False),
                              held_out=[kept.name])
    assert [c.path for c in scanned.valid.clips] == [kept]
    assert kept not in [c.path for c in scanned.train.clips] and drawn[0] in [c.path for c in scanned.train.clips]


def test_a_cache_that_cannot_be_written_is_a_warning_and_the_facts_still_come(tmp_path):
    files = write_clips(tmp_path / "c", 2)
    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "a-file" / "scan-cache.npz"  # its folder is a file: mkdir fails
    with pytest.warns(RuntimeWarning, match=r"cannot write the scan cache .*a-file/scan-cache\.npz .*; the next run "
                                            r"reads every file again$"):
        facts = gather_facts(files, SETTINGS, cache, progress=False)
    assert len(facts.rows) == 2 and facts.read == 2 and not cache.exists()
