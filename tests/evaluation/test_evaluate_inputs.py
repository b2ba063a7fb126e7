"""`hifigan evaluate` names every problem of its inputs in one run: a folder missing or with its audio in
subfolders, stems shared by two files, no preset at the recordings' rate, no recording that reads, with each file's
own problems (rate, channels, partner), all in one line, in path order, exit 2, nothing written."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from hifigan.audio import load_audio, save_audio
from tests.support.cli_runs import SUBSET, failed_cleanly, problems, run
from tests.support.signals import SR, speechlike

MONO = "has 2 channels; only mono is supported (use --mix-to-mono)"

def test_folder_problems_are_named_with_every_files(folders, tmp_path, capsys):
    """Two files of one stem, a system folder whose audio is in a subfolder (its name holding the list's separator,
    so JSON-quoted), a missing system folder, another rate, stereo and unpaired files: one run names all. The
    recordings are not named unpaired in the folders without audio (every one would be: the folder says why)."""
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "a.wav", SR)
    sf.write(ref_dir / "stereo.wav", np.stack([x, x], axis=1), SR)
    save_audio(ref_dir / "rate.wav", speechlike(1.2, sr=16000), 16000)
    save_audio(ref_dir / "dup.wav", x, SR)
    sf.write(ref_dir / "dup.flac", x, SR)
    save_audio(ref_dir / "unpaired.wav", x, SR)
    for stem in ("stereo", "rate", "dup", "extra"):
        save_audio(gen_dir / f"{stem}.wav", x, SR)
    nested = tmp_path / "spk | all"
    (nested / "spk1").mkdir(parents=True)
    save_audio(nested / "spk1" / "a.wav", x, SR)
    out = tmp_path / "out"
    code, _, err = run(capsys, "evaluate", "--reference", ref_dir, "--system", gen_dir, "--system", f"n={nested}",
                       "--system", f"m={tmp_path / 'missing'}", "--metrics", "snr", "-o", f"{out}/")
    line = failed_cleanly(code, err, out)
    assert problems(line) == [
        "7 of 15 inputs are bad",  # each file once: the 7 recordings, gen's 6, the two folders as such
        f"{gen_dir / 'extra.wav'}: no reference file of the same stem in {ref_dir}",
        f"{tmp_path / 'missing'}: no such folder",
        f"{ref_dir / 'dup.wav'}: same stem as {ref_dir / 'dup.flac'}; cannot tell which to pair",
        f"{ref_dir / 'rate.wav'}: sample rate is 16000 Hz, a.wav is at 22050 Hz: the recordings must share one rate; "
        "give --config (and --resample to measure at its rate)",
        f"{ref_dir / 'stereo.wav'}: {MONO}",
        f"{ref_dir / 'unpaired.wav'}: no generated file of the same stem in {gen_dir} {SUBSET}",
        f"{nested}: contains no audio files directly (1 in its subfolders, e.g. {nested / 'spk1' / 'a.wav'}: give "
        "the folder that holds them)"]
    assert f'"{nested}: contains no audio' in line  # quoted: the path holds " | "


def test_no_preset_at_the_rate_is_named_with_every_files(tmp_path, capsys):
    """The rate is known, so every file is still read at it (rate, channels, partner); only the lengths are not
    checked, as the tolerance is the config's hop (c1's generated file is far shorter, and not named)."""
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir()
    gen.mkdir()
    x = speechlike(0.5, sr=8000)
    for stem in ("c0", "c1", "stereo"):
        save_audio(ref / f"{stem}.wav", x, 8000)
        save_audio(gen / f"{stem}.wav", x[:1000] if stem == "c1" else x, 8000)
    sf.write(gen / "stereo.wav", np.stack([x, x], axis=1), 8000)
    save_audio(gen / "c0.wav", speechlike(0.5, sr=16000), 16000)
    save_audio(ref / "lone.wav", x, 8000)
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "snr", "-o",
                       tmp_path / "out/")
    assert problems(failed_cleanly(code, err, tmp_path / "out")) == [
        "4 of 7 inputs are bad",
        f"{gen / 'c0.wav'}: sample rate is 16000 Hz, expected 8000 Hz (use --resample)",
        f"{gen / 'stereo.wav'}: {MONO}",
        f"{ref}: recordings at 8000 Hz, and no preset is at that rate: give the model the audio was vocoded with (-c "
        "CKPT, --pretrained NAME) or --config, a config file at 8000 Hz (its mel is the one the mel metrics use)",
        f"{ref / 'lone.wav'}: no generated file of the same stem in {gen} {SUBSET}"]


def test_recordings_that_do_not_read_are_named_with_the_systems_problems(folders, capsys):
    """No header of the recordings reads, so no rate is known: still every generated file is paired and read for
    what needs no rate (here its channels), and a system's two files of one stem are named."""
    ref_dir, gen_dir = folders
    for stem in ("a", "b"):
        (ref_dir / f"{stem}.wav").write_bytes(b"RIFF not really a wave file")
    x = load_audio(gen_dir / "a.wav", SR)
    sf.write(gen_dir / "a.wav", np.stack([x, x], axis=1), 16000)
    sf.write(gen_dir / "b.flac", x, SR)
    save_audio(gen_dir / "c.wav", x, SR)
    code, _, err = run(capsys, "evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics", "snr")
    assert code == 2
    unreadable = "not a readable audio file (Format not recognised)"
    assert problems(failed_cleanly(code, err, ref_dir.parent / "out")) == [
        "5 of 6 inputs are bad",
        f"{gen_dir / 'a.wav'}: {MONO}",
        f"{gen_dir / 'b.wav'}: same stem as {gen_dir / 'b.flac'}; cannot tell which to pair",
        f"{gen_dir / 'c.wav'}: no reference file of the same stem in {ref_dir}",
        f"{ref_dir / 'a.wav'}: {unreadable}",
        f"{ref_dir / 'b.wav'}: {unreadable}"]


def test_many_unpaired_recordings_are_counted_as_one_problem_and_case_is_named(folders, capsys):
    """A recordings folder holding more clips than the system: past the 10 listed, the rest is counted as one
    problem (the stem is in each path, not in the problem; the --subset hint said once, on the first), and a stem that
    differs only in case says so."""
    ref_dir, gen_dir = folders
    x = np.zeros(64, np.float32)  # never read: pairing fails first
    for i in range(13):
        save_audio(ref_dir / f"extra{i:02d}.wav", x, SR)
    (gen_dir / "b.wav").rename(gen_dir / "B.wav")
    code, _, err = run(capsys, "evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics", "snr")
    listed = problems(failed_cleanly(code, err, ref_dir.parent / "out"))
    assert listed[0] == "15 of 17 inputs are bad"
    assert listed[1] == f"{gen_dir / 'B.wav'}: no reference file of the same stem in {ref_dir} (b.wav differs in case)"
    assert listed[2] == f"{ref_dir / 'b.wav'}: no generated file of the same stem in {gen_dir} (B.wav differs in case)"
    assert listed[3] == f"{ref_dir / 'extra00.wav'}: no generated file of the same stem in {gen_dir} {SUBSET}"
    assert listed[4] == f"{ref_dir / 'extra01.wav'}: no generated file of the same stem in {gen_dir}"  # said once
    assert listed[-1] == f"and 5 more: 5 no generated file of the same stem in {gen_dir}"
