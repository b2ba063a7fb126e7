"""`hifigan evaluate`'s refusals of bad inputs: a missing partner, another rate or length, unreadable or too short
files, bad options; one line each, every bad input named at once, no report written."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import load_audio, resample_audio, save_audio
from hifigan.config import load_config
from hifigan.errors import LIST_SEPARATOR, HifiganError
from hifigan.evaluation.pairing import pair_by_stem
from tests.support.cli_runs import SUBSET, one_line, run
from tests.support.signals import SR, speechlike

CONFIG = load_config("v1")


def test_missing_partner_is_an_error_naming_it(folders, capsys):
    ref_dir, gen_dir = folders
    (gen_dir / "b.wav").unlink()
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir))
    assert code == 2
    assert f"{ref_dir / 'b.wav'}: no generated file of the same stem" in err
    save_audio(gen_dir / "c.wav", np.zeros(SR, np.float32), SR)
    save_audio(gen_dir / "b.wav", np.zeros(SR, np.float32), SR)
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir))
    assert code == 2 and f"{gen_dir / 'c.wav'}: no reference file of the same stem" in err


def test_rate_mismatch_fails_unless_resampled(folders, capsys):
    ref_dir, gen_dir = folders
    save_audio(gen_dir / "a.wav", speechlike(1.2, sr=16000), 16000)
    args = ["--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "mel_l1"]
    code, _, err = run(capsys, "evaluate", *args)
    assert code == 2 and "a.wav: sample rate is 16000 Hz, expected 22050 Hz (use --resample)" in err
    code, out, err = run(capsys, "evaluate", *args, "--resample")
    assert code == 0, err
    assert "mel L1" in out


def test_length_mismatch_beyond_one_hop_names_both_files(folders, capsys):
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "b.wav", SR)
    save_audio(gen_dir / "b.wav", x[: -CONFIG.hop_size - 1], SR)
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr")
    assert code == 2
    assert f"{gen_dir / 'b.wav'} (vs {ref_dir / 'b.wav'}): lengths differ by 257 samples" in err
    save_audio(gen_dir / "b.wav", x[: -CONFIG.hop_size], SR)  # one hop: trimmed
    assert run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr")[0] == 0


def test_bad_inputs_are_one_line_errors(folders, tmp_path, capsys):
    ref_dir, gen_dir = folders
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics",
                       "pesq,nope")
    assert code == 2 and "unknown metric(s) nope" in err
    code, _, err = run(capsys, "evaluate", "--reference", str(tmp_path / "missing"), "--system", str(gen_dir))
    assert code == 2 and "missing: no such folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "evaluate", "--reference", str(tmp_path / "empty"), "--system", str(gen_dir))
    assert code == 2 and "contains no audio files" in err
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--max-shift", "999")
    assert code == 2 and "--max-shift must be between 0 and one hop (256)" in err
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--max-shift",
                       "999999999999")  # longer than the files: still the option's error, not every file's
    assert code == 2 and err.endswith("error: --max-shift must be between 0 and one hop (256), got 999999999999\n")
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr",
                       "--max-shift", "256", "-o", str(tmp_path / "one-hop"))  # one hop itself is allowed
    assert code == 0, err
    save_audio(gen_dir / "a.flac", np.zeros(100, np.float32), SR)
    with pytest.raises(HifiganError, match="same stem as"):
        pair_by_stem(ref_dir, gen_dir)


def test_a_pair_too_short_for_the_metrics_fails_before_any_report(folders, tmp_path, capsys):
    """Checked with the other inputs, so that no system's report and no folder is written; --max-shift's cut counts
    (the MR-STFT needs 2048 samples)."""
    ref_dir = folders[0]
    short, cut = tmp_path / "short", tmp_path / "cut"
    for folder, n in ((short, 2100), (cut, 1900)):  # within one hop of each other: the lengths pair
        folder.mkdir()
        for stem in ("a", "b"):
            save_audio(folder / f"{stem}.wav", load_audio(ref_dir / f"{stem}.wav", SR)[:n], SR)
    shutil.copytree(short, tmp_path / "short_ref")
    out = tmp_path / "out"
    code, _, err = run(capsys, "evaluate", "--reference", str(tmp_path / "short_ref"), "--system", f"short={short}",
                       "--system", f"cut={cut}", "--metrics", "mrstft", "-o", f"{out}/")
    assert code == 2 and not out.exists()
    assert f"{cut / 'a.wav'} (vs {tmp_path / 'short_ref' / 'a.wav'}): too short: 1900 samples, the metrics " in err
    code, _, err = run(capsys, "evaluate", "--reference", str(tmp_path / "short_ref"), "--system", str(short),
                       "--metrics", "mrstft", "--max-shift", "60", "-o", f"{out}/")
    assert code == 2 and not out.exists()
    assert "2 of 4 inputs are bad" in err and "too short: 2100 samples less --max-shift 60" in err, err
    assert run(capsys, "evaluate", "--reference", str(tmp_path / "short_ref"), "--system", str(short),
               "--metrics", "mrstft", "-o", f"{out}/")[0] == 0  # 2100 >= 2048: long enough without the cut


def test_every_unreadable_recording_is_named(folders, capsys):
    ref_dir, gen_dir = folders
    for stem in ("x", "y"):
        (ref_dir / f"{stem}.wav").write_bytes(b"RIFF not really a wave file")
        shutil.copy(gen_dir / "a.wav", gen_dir / f"{stem}.wav")
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr",
                       "--config", "v1")
    assert code == 2 and "2 of 8 inputs are bad" in err and "x.wav" in err and "y.wav" in err, err


def test_an_unpaired_file_is_named_with_the_other_bad_inputs(folders, capsys):
    """One rerun, not two: a recording without a generated file and a generated file that fails its check."""
    ref_dir, gen_dir = folders
    (gen_dir / "b.wav").unlink()
    x = load_audio(ref_dir / "a.wav", SR)
    sf.write(gen_dir / "a.wav", np.stack([x, x], axis=1), SR, subtype="PCM_16")
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr")
    assert code == 2 and "2 of" in err, err
    assert f"{ref_dir / 'b.wav'}: no generated file of the same stem" in err, err
    assert f"{gen_dir / 'a.wav'}: has 2 channels" in err, err


def test_a_folder_whose_audio_is_in_subfolders_says_so(folders, tmp_path, capsys):
    """evaluate pairs the files directly in each folder: a speaker-per-folder corpus given as --reference was
    refused as holding no audio at all."""
    _, gen_dir = folders
    nested = tmp_path / "corpus"
    (nested / "spk1").mkdir(parents=True)
    (nested / "spk2").mkdir()
    for name in ("spk1/a.wav", "spk1/b.wav", "spk2/c.WAV"):
        save_audio(nested / name, np.zeros(SR, np.float32), SR)
    code, _, err = run(capsys, "evaluate", "--reference", str(nested), "--system", str(gen_dir))
    assert code == 2
    assert err.splitlines() == [f"hifigan evaluate: error: {nested}: contains no audio files directly (3 in its "
                                f"subfolders, e.g. {nested / 'spk1' / 'a.wav'}: give the folder that holds them)"]


def test_every_problem_of_every_file_is_named_in_the_first_run(folders, capsys):
    """A header that does not read, another rate, stereo and a missing partner were found in stages (one run named
    the unreadable recording alone, the next the rates, the next the channels): one run names them all, in path
    order, and a file in stereo at another rate is named for both."""
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "a.wav", SR)
    sf.write(ref_dir / "stereo.wav", np.stack([x, x], axis=1), SR)
    slow = resample_audio(x, SR, 16000)  # x at 16 kHz: with --resample, its length pairs
    save_audio(ref_dir / "rate.wav", slow, 16000)
    sf.write(ref_dir / "rate2.wav", np.stack([slow, slow], axis=1), 16000)
    (ref_dir / "text.wav").write_text("not audio, whatever its name\n")
    save_audio(ref_dir / "unpaired.wav", x, SR)
    for stem in ("stereo", "rate", "rate2", "text"):
        save_audio(gen_dir / f"{stem}.wav", x, SR)
    args = ["--reference", ref_dir, "--system", gen_dir, "--metrics", "snr"]
    share = "the recordings must share one rate; give --config (and --resample to measure at its rate)"
    for more, rate in (((), f"a.wav is at 22050 Hz: {share}"),
                       (("--config", "v1"), "the config v1 is at 22050 Hz: give --config at 16000 Hz (presets: "
                                            "speechbrain-16k), or --resample to measure at 22050 Hz")):
        code, _, err = run(capsys, "evaluate", *args, *more)
        assert code == 2
        assert one_line(err).split("error: ", 1)[1] == LIST_SEPARATOR.join([
            "5 of 13 inputs are bad (nothing was written): "
            f"{ref_dir / 'rate.wav'}: sample rate is 16000 Hz, {rate}",
            f"{ref_dir / 'rate2.wav'}: sample rate is 16000 Hz, {rate}; has 2 channels; only mono is supported (use "
            "--mix-to-mono)",
            f"{ref_dir / 'stereo.wav'}: has 2 channels; only mono is supported (use --mix-to-mono)",
            f"{ref_dir / 'text.wav'}: not a readable audio file (Format not recognised)",
            f"{ref_dir / 'unpaired.wav'}: no generated file of the same stem in {gen_dir} {SUBSET}"])
    code, _, err = run(capsys, "evaluate", *args, "--mix-to-mono", "--resample", "--config", "v1")
    assert code == 2 and one_line(err).split("error: ", 1)[1] == LIST_SEPARATOR.join([
        f"2 of 13 inputs are bad (nothing was written): {ref_dir / 'text.wav'}: not a readable audio file (Format "
        "not recognised)",
        f"{ref_dir / 'unpaired.wav'}: no generated file of the same stem in {gen_dir} {SUBSET}"])


def test_a_file_in_stereo_at_another_rate_is_named_for_both(folders, capsys):
    """check_format, every reader's rule: a file that breaks both is named once, for both, where the channels hid
    the rate until --mix-to-mono was given."""
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "a.wav", SR)
    sf.write(gen_dir / "a.wav", np.stack([x, x], axis=1)[:16000], 16000)
    code, _, err = run(capsys, "evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics", "snr")
    assert code == 2 and one_line(err).endswith(f"error: {gen_dir / 'a.wav'}: has 2 channels; only mono is supported "
                                                "(use --mix-to-mono); sample rate is 16000 Hz, expected 22050 Hz (use "
                                                "--resample)")


def test_max_length_difference_trims_more_than_a_hop_and_is_recorded(folders, capsys, tmp_path):
    """Audio from an acoustic model's mels is a few frames off its recording: the refusal names the option that
    trims it, and the option trims that many samples (recorded per file and in the settings), no more."""
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "b.wav", SR)
    save_audio(gen_dir / "b.wav", x[: -3 * CONFIG.hop_size], SR)  # three frames short
    args = ["evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "lengths differ by 768 samples" in err and "(--max-length-difference trims more" in err, err
    code, _, err = run(capsys, *args, "--max-length-difference", "767")
    assert code == 2 and "at most 767 samples are trimmed" in err, err
    # mel_l1 too: the PNG shows the file of median mel L1, b (0 of 2), read again and trimmed the same way
    code, _, err = run(capsys, *args, "mel_l1", "--max-length-difference", "768", "--out", str(tmp_path / "r"))
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["settings"]["length_tolerance_samples"] == 768
    trimmed = {f["stem"]: (f["trimmed_samples"], f["trimmed_from"]) for f in report["files"]}
    assert trimmed == {"a": (0, None), "b": (768, "reference")}
    assert report["files"][1]["metrics"]["snr"] == 100.0  # the generated file is the recording's start, exactly
    code, _, err = run(capsys, *args, "--max-length-difference", "-1")
    assert code == 2 and err.endswith("error: argument --max-length-difference: must be an integer >= 0, got -1 "
                                      "('hifigan evaluate --help' lists the options)\n"), err
