"""`hifigan evaluate --subset`: a test set of a larger corpus. Only the recordings of the stems the systems hold are
evaluated (the others are not even read), every system must hold the same stems, a generated file still needs its
recording, and the run, the JSON report and the page say how many recordings were evaluated."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import save_audio
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.evaluation.evaluate import evaluate_pairs
from hifigan.evaluation.pairing import pair_by_stem
from tests.support.cli_runs import failed_cleanly, problems, run
from tests.support.signals import SR, speechlike, with_noise_at_snr

STEMS = [f"LJ001-{i:04d}" for i in range(6)]
TEST_SET = STEMS[1::2]
HINT = "another system has one; with --subset every system holds the same stems"


@pytest.fixture
def corpus(tmp_path):
    """corpus/ with 6 recordings of 0.3 s, gen/ with the generated files of 3 of them (noise at 20 dB SNR)."""
    ref, gen = tmp_path / "corpus", tmp_path / "gen"
    ref.mkdir()
    gen.mkdir()
    for i, stem in enumerate(STEMS):
        x = speechlike(0.3, seed=i)
        save_audio(ref / f"{stem}.wav", x, SR)
        if stem in TEST_SET:
            save_audio(gen / f"{stem}.wav", with_noise_at_snr(x, 20.0, seed=i), SR)
    return ref, gen


def test_subset_equals_a_folder_of_just_the_test_recordings(corpus, tmp_path, capsys):
    """3 of 6 recordings evaluated, each number equal to those of a folder holding only those 3; the run, the JSON
    (settings) and the page say so, and without --subset the same run is refused, naming the option."""
    ref, gen = corpus
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "snr")
    line = failed_cleanly(code, err, tmp_path / "none")
    assert problems(line)[:2] == [
        "3 of 9 inputs are bad",
        f"{ref / 'LJ001-0000.wav'}: no generated file of the same stem in {gen} (--subset evaluates only the stems "
        "the systems hold)"]
    only = tmp_path / "only"
    only.mkdir()
    for stem in TEST_SET:
        shutil.copy(ref / f"{stem}.wav", only)
    metrics = ["--metrics", "snr,mel_l1"]
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--subset", *metrics, "--html",
                         "-o", tmp_path / "sub")
    assert code == 0, err
    assert out.splitlines()[0] == "evaluated 3 of the 6 recordings: the stems of the systems (--subset)"
    assert run(capsys, "evaluate", "--reference", only, "--system", gen, *metrics, "-o", tmp_path / "full")[0] == 0
    sub, full = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("sub", "full"))
    assert [f["stem"] for f in sub["files"]] == TEST_SET
    assert [f["metrics"] for f in sub["files"]] == [f["metrics"] for f in full["files"]]
    assert sub["summary"] == full["summary"]
    assert (sub["settings"]["subset"], sub["settings"]["reference_recordings"]) == (True, 6)
    assert (full["settings"]["subset"], full["settings"]["reference_recordings"]) == (False, 3)
    page = (tmp_path / "sub.html").read_text()
    assert '<p class="meta" id="subset">evaluated 3 of the 6 recordings: the stems of the systems' in page
    assert "evaluated" not in run(capsys, "evaluate", "--reference", only, "--system", gen, "--metrics", "snr")[1]


def test_the_recordings_left_out_are_not_read(corpus, capsys):
    """Recordings of other stems that would each be refused (not audio, two files of one stem, another rate,
    stereo) do not stop a --subset run: they are neither decoded nor their headers read."""
    ref, gen = corpus
    (ref / "LJ001-0000.wav").write_bytes(b"RIFF not really a wave file")
    sf.write(ref / "LJ001-0002.flac", speechlike(0.3), SR)
    save_audio(ref / "LJ001-0004.wav", speechlike(0.3, sr=16000), 16000)
    sf.write(ref / "stereo.wav", np.zeros((100, 2), np.float32), SR)
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--subset", "--metrics", "snr")
    assert code == 0, err
    assert out.splitlines()[0] == "evaluated 3 of the 8 recordings: the stems of the systems (--subset)"


def test_systems_with_other_stems_are_refused(corpus, tmp_path, capsys):
    """Every system must hold the same stems: a stem one lacks is named (the recording, and the folder without
    it), as is a generated file without a recording; nothing is written."""
    ref, gen = corpus
    other = tmp_path / "other"
    shutil.copytree(gen, other)
    (other / "LJ001-0003.wav").rename(other / "LJ001-0000.wav")
    save_audio(gen / "extra.wav", speechlike(0.3), SR)
    out = tmp_path / "out"
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", f"a={gen}", "--system", f"b={other}",
                       "--subset", "--metrics", "snr", "-o", f"{out}/")
    assert problems(failed_cleanly(code, err, out)) == [
        "3 of 11 inputs are bad",  # the 4 recordings of the systems' stems, 4 + 3 generated files
        f"{ref / 'LJ001-0000.wav'}: no generated file of the same stem in {gen} ({HINT})",
        f"{ref / 'LJ001-0003.wav'}: no generated file of the same stem in {other} ({HINT})",
        f"{gen / 'extra.wav'}: no reference file of the same stem in {ref}"]


def test_many_stems_missing_from_a_system_are_counted_past_ten(corpus, tmp_path, capsys):
    ref, gen = corpus
    for i in range(12):
        save_audio(ref / f"more{i:02d}.wav", speechlike(0.3), SR)
        save_audio(gen / f"more{i:02d}.wav", speechlike(0.3), SR)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(gen / "LJ001-0001.wav", other)
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--system", other, "--subset",
                       "--metrics", "snr")
    listed = problems(failed_cleanly(code, err, tmp_path / "none"))
    assert listed[0] == "14 of 31 inputs are bad"
    assert listed[1].endswith(f"no generated file of the same stem in {other} ({HINT})")  # the rule said once
    assert listed[-1] == f"and 4 more: 4 no generated file of the same stem in {other}"


def test_python_api_pairs_and_records_a_subset(corpus, tmp_path):
    """pair_by_stem(subset=True) pairs the generated files' stems only, a generated file without a recording is
    still an error, and evaluate_pairs(subset_of=N) records the choice as the command does."""
    ref, gen = corpus
    with pytest.raises(HifiganError, match="no generated file of the same stem"):
        pair_by_stem(ref, gen)
    pairs = pair_by_stem(ref, gen, subset=True)
    assert pairs == [(stem, ref / f"{stem}.wav", gen / f"{stem}.wav") for stem in TEST_SET]
    report = evaluate_pairs(pairs, load_config("v1"), metrics=["snr"], subset_of=6, progress=False)
    assert (report.settings["subset"], report.settings["reference_recordings"]) == (True, 6)
    assert report.subset_note() == "evaluated 3 of the 6 recordings: the stems of the systems (--subset)"
    save_audio(gen / "extra.wav", speechlike(0.3), SR)
    with pytest.raises(HifiganError, match=f"extra.wav: no reference file of the same stem in {ref}$"):
        pair_by_stem(ref, gen, subset=True)
