"""Issue #25: every input is checked before anything is written, through the command line: every bad input named
in one line, exit 2, and no file and no folder left behind (vocode, evaluate, mel, export, export-official, train,
demo, listen); check-mel judges every file; a truncated WAV is refused naming both frame counts (outputs named what
they are: test_cli_output_names.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.errors import AudioError, split_problems
from hifigan.files.wav_header import readable_patch, without_chunks
from tests.support.cli_runs import BINS, HOP, SR, failed_cleanly, refused_after_scan, run, tone, wav
from tests.support.files import save_config_json
from tests.support.tiny import tiny_config


def mel(path: Path, shape: tuple[int, ...]) -> Path:
    np.save(path, np.random.default_rng(0).normal(-5, 1, shape).astype(np.float32))
    return path


def truncated(path: Path, frames: int = 4000, keep_bytes: int = 3044) -> Path:
    """A 16-bit mono WAV of `frames` frames cut after `keep_bytes` bytes (the 44-byte header intact)."""
    wav(path, tone(frames))
    path.write_bytes(path.read_bytes()[:keep_bytes])
    return path


# ---------------------------------------------------------------- vocode: every bad input, nothing created
def test_vocode_names_every_bad_input_and_creates_no_folder(tmp_path, capsys, tiny_checkpoint):
    good = wav(tmp_path / "good.wav", tone(SR // 2))
    stereo = wav(tmp_path / "stereo.wav", tone(SR // 2, channels=2))
    bins = mel(tmp_path / "bins.npy", (BINS + 1, 20))
    nan = wav(tmp_path / "nan.wav", np.full(SR // 2, np.nan, np.float32), subtype="FLOAT")
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, good, stereo, tmp_path / "missing.wav",
                       bins, nan)
    line = failed_cleanly(code, err, out, "4 of 5 inputs are bad", "stereo.wav: has 2 channels",
                          "missing.wav: no such file", f"bins.npy: mel has {BINS + 1} bins",
                          "nan.wav: contains non-finite")
    assert "good.wav" not in line


def test_vocode_bad_checkpoint_and_output_name_clash_create_no_folder(tmp_path, capsys, tiny_checkpoint):
    good = wav(tmp_path / "good.wav", tone(SR // 2))
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "missing.pt", "-o", out, good)
    failed_cleanly(code, err, out, "missing.pt", "no such file")
    (tmp_path / "b").mkdir()
    again = wav(tmp_path / "b" / "good.wav", tone(SR // 2))
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, good, again)
    failed_cleanly(code, err, out, str(again), "same output name")


def test_vocode_evaluate_names_the_npy_inputs(tmp_path, capsys, tiny_checkpoint):
    """A .npy has no recording to score against: an error naming every .npy, not a partial score or a stray WAV."""
    good = wav(tmp_path / "good.wav", tone(SR // 2))
    a, b = mel(tmp_path / "a.npy", (BINS, 20)), mel(tmp_path / "b.npy", (BINS, 20))
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, "--evaluate", good, a, b)
    failed_cleanly(code, err, out, "--evaluate", str(a), str(b), "no recording")
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, "--evaluate", a)
    failed_cleanly(code, err, out, str(a))


@pytest.mark.parametrize(("shape", "hinted"), [
    ((BINS + 1, 40), False),          # 17 bins, 40 frames: no way to read it as [frames, 16]
    ((40, BINS), True),               # [frames, bins]: the transposed hint
    ((BINS + 1, BINS), True),         # shape[1] == bins: transposed it is a 16-bin mel of 17 frames
    ((1, 40, BINS), True),            # a batch of one, transposed
    ((1, BINS + 1, 40), False),
    ((1, BINS), True),                # 1 bin (said so) of 16 frames: transposed, 16 bins of 1 frame
])
def test_transposed_hint_only_where_the_shape_allows(tmp_path, capsys, tiny_checkpoint, shape, hinted):
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, mel(tmp_path / "m.npy", shape))
    line = failed_cleanly(code, err, out, "m.npy", f"mel has {shape[-2]} {'bin' if shape[-2] == 1 else 'bins'}, "
                          "the model expects 16")
    assert ("--mel-convention transposed" in line) is hinted, line


# ---------------------------------------------------------------- check-mel: a verdict for every file
def test_check_mel_judges_every_file_and_exits_with_the_worst(tmp_path, capsys, tiny_config_json):
    official = np.log(np.clip(np.random.default_rng(1).gamma(1.0, 0.05, (BINS, 200)), 1e-5, None))
    np.save(tmp_path / "a.npy", official.astype(np.float32))
    np.save(tmp_path / "c.npy", np.exp(official).astype(np.float32))  # a linear magnitude: not the model's
    (tmp_path / "bad.npy").write_bytes(b"not an array")
    args = ["check-mel", "--config", tiny_config_json]
    code, out, err = run(capsys, *args, tmp_path / "a.npy", tmp_path / "bad.npy", tmp_path / "c.npy")
    *lines, last = out.splitlines()  # a line per file, then the counts (test_check_mel_folders.py)
    assert [line.split(": ")[0] for line in lines] == [str(tmp_path / n) for n in ("a.npy", "bad.npy", "c.npy")]
    assert "fits the model's mel" in lines[0] and "cannot be judged" in lines[1] and "does NOT fit" in lines[2]
    assert last.startswith("checked 3 files against the model's mel") and last.endswith("1 is not a mel it can judge")
    assert code == 2 and err.strip().splitlines() == [
        f"hifigan check-mel: error: 1 of 3 files is not a mel it can judge: {tmp_path / 'bad.npy'}"]
    assert run(capsys, *args, tmp_path / "a.npy", tmp_path / "c.npy")[0] == 1
    assert run(capsys, *args, tmp_path / "a.npy")[0] == 0


def test_check_mel_refuses_a_num_mels_other_than_the_bins_its_statistics_normalise(tmp_path, capsys):
    config = save_config_json(tmp_path / "normalised.json",
                              tiny_config(mel_convention="log10", mel_stats={"mean": [-3.0] * 16, "std": [1.5] * 16}))
    np.save(tmp_path / "a.npy", np.zeros((8, 20), np.float32))
    code, out, err = run(capsys, "check-mel", "--config", config, "--num-mels", 8, tmp_path / "a.npy")
    assert (code, out, err) == (2, "", "hifigan check-mel: error: --num-mels 8: the model normalises 16 bins\n")


# ---------------------------------------------------------------- truncated WAV files
def test_truncated_wav_counts_are_the_header_and_the_bytes(tmp_path):
    """4000 16-bit mono frames promised; 3044 bytes kept = 44 header + 3000 data bytes = 1500 frames."""
    with pytest.raises(AudioError, match=r"t\.wav: truncated WAV: the header promises 4000 frames, the file holds "
                                         r"1500 "):
        readable_patch(truncated(tmp_path / "t.wav"))


def test_truncated_wav_after_a_chunk_of_odd_length(tmp_path):
    """A 3-byte chunk is followed by a pad byte (RIFF aligns chunks to 2 bytes): the data chunk after it, promising
    100 16-bit frames and holding 50, is still found; complete, and without the odd chunk, it reads whole."""
    import struct

    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
    odd = b"note" + struct.pack("<I", 3) + b"abc" + b"\0"
    samples = np.arange(100, dtype="<i2").tobytes()
    body = b"WAVE" + fmt + odd + b"data" + struct.pack("<I", 200)
    path = tmp_path / "odd.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body) + 100) + body + samples[:100])
    with pytest.raises(AudioError, match="promises 100 frames, the file holds 50 "):
        readable_patch(path)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body) + 200) + body + samples)
    assert readable_patch(path) is None
    assert without_chunks(path.read_bytes(), frozenset({b"note"})) == (
        b"RIFF" + struct.pack("<I", 4 + 24 + 8 + 200) + b"WAVE" + fmt + b"data" + struct.pack("<I", 200) + samples)


def test_truncated_wav_is_refused_by_every_reader(tmp_path, capsys, tiny_checkpoint, tiny_config_json):
    cut = truncated(tmp_path / "cut.wav")
    assert sf.info(cut).frames == 1500  # libsndfile alone would read the 1500 frames without a word
    problem = "truncated WAV: the header promises 4000 frames, the file holds 1500"
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, cut)
    failed_cleanly(code, err, out, "cut.wav", problem)
    code, _, err = run(capsys, "mel", cut, "-o", out / "cut.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, out, "cut.wav", problem)
    whole = wav(tmp_path / "whole.wav", tone(4000))
    assert readable_patch(whole) is None
    streamed = tmp_path / "streamed.wav"  # a writer into a pipe leaves the sizes at a placeholder: not truncation
    data = bytearray(whole.read_bytes())
    data[40:44] = (0xFFFFFFFF).to_bytes(4, "little")
    streamed.write_bytes(bytes(data))
    assert readable_patch(streamed) is None


# ---------------------------------------------------------------- evaluate: every bad file, nothing created
@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir(), gen.mkdir()
    for stem in ("a", "b", "c", "d"):
        wav(ref / f"{stem}.wav", tone(SR // 2))
        wav(gen / f"{stem}.wav", tone(SR // 2) * 0.9)
    return ref, gen


def test_evaluate_names_every_bad_file_before_writing(folders, tmp_path, capsys, tiny_config_json):
    ref, gen = folders
    wav(gen / "b.wav", tone(SR // 2, channels=2))
    wav(gen / "c.wav", tone(SR // 2), sr=16000)
    truncated(gen / "d.wav")
    out = tmp_path / "report"
    args = ["evaluate", "--reference", ref, "--system", gen, "--metrics", "snr", "--config", tiny_config_json]
    code, _, err = run(capsys, *args, "-o", f"{out}/")
    failed_cleanly(code, err, out, "3 of", "b.wav: has 2 channels", "c.wav: sample rate is 16000 Hz",
                   "d.wav: truncated WAV")
    for stem in "bcd":
        wav(gen / f"{stem}.wav", tone(SR // 2) * 0.9)
    wav(gen / "b.wav", tone(SR // 2 + 3 * HOP))  # lengths more than a hop apart
    (gen / "c.wav").unlink()
    wav(gen / "e.wav", tone(SR // 2))
    code, _, err = run(capsys, *args, "-o", f"{out}/")
    failed_cleanly(code, err, out, "3 of 8 inputs", "c.wav: no generated file of the same stem",  # and b's lengths
                   "e.wav: no reference file of the same stem", "b.wav (vs ", "lengths differ by 48 samples")
    wav(gen / "c.wav", tone(SR // 2))
    (gen / "e.wav").unlink()
    code, _, err = run(capsys, *args, "-o", f"{out}/")
    failed_cleanly(code, err, out, "b.wav (vs ", "lengths differ by 48 samples")


# ---------------------------------------------------------------- the other commands that write
def test_export_official_train_demo_and_listen_create_nothing_on_bad_input(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "export-official", "-c", tmp_path / "missing.pt", "-o", out)
    failed_cleanly(code, err, out, "missing.pt", "no such file")
    for command in ("train", "demo"):
        code, _, err = run(capsys, command, "--corpus", tmp_path / "nowhere", "-o", out)
        failed_cleanly(code, err, out, "nowhere", "no such folder")
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "listen", "--reference", tmp_path / "empty", "--system", f"a={tmp_path / 'empty'}",
                       "-o", out, "--port", "0")
    failed_cleanly(code, err, out, "empty", "contains no audio files")


def test_one_line_for_several_bad_inputs_is_parseable(tmp_path, capsys, tiny_checkpoint):
    """The listed problems are each file's own error line, and split_problems gives them back: a stereo file's message
    holds '; ' ('has 2 channels; only mono is supported'), a file's name may hold the separator itself (then its
    problem is listed quoted)."""
    bad = [mel(tmp_path / "m | 0.npy", (BINS + 1, 30)), wav(tmp_path / "s1.wav", tone(SR // 2, channels=2)),
           wav(tmp_path / "s2.wav", tone(SR // 2, channels=2))]
    alone = []
    for path in bad:
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", path)
        alone.append(failed_cleanly(code, err, tmp_path / "out", str(path)).split("error: ", 1)[1])
    assert "; " in alone[1]
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", *bad)
    line = failed_cleanly(code, err, tmp_path / "out", *map(str, bad))
    assert split_problems(line) == alone
    assert f'(nothing was written): "{bad[0]}: mel has {BINS + 1} bins' in line


# ---------------------------------------------------------------- train: every bad file and list line, no run folder
def test_train_names_every_bad_file_and_keeps_only_the_scan_cache(tmp_path, capsys, tiny_config_json):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(4):
        wav(corpus / f"good{i}.wav", tone(SR // 2))
    wav(corpus / "fast.wav", tone(SR, sr=2 * SR), sr=2 * SR)
    wav(corpus / "slow.wav", tone(SR // 4, sr=SR // 2), sr=SR // 2)
    wav(corpus / "stereo.wav", tone(SR // 2, channels=2))
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    refused_after_scan(code, err, out, "3 of 7 inputs are bad (nothing was written but the scan cache, kept for the "
                       "next try): ",
                       f"fast.wav: sample rate is {2 * SR}", f"slow.wav: sample rate is {SR // 2}",
                       "stereo.wav: has 2 channels")
    mels = tmp_path / "mels"  # teacher-forced mels: every missing one named
    mels.mkdir()
    np.save(mels / "good0.npy", np.zeros((BINS, SR // 2 // HOP), np.float32))
    code, _, err = run(capsys, "train", "--corpus", corpus, "--config", tiny_config_json, "-o", out, "--max-steps", 1,
                       "--input-mels", mels, "--resample", "--mix-to-mono")
    refused_after_scan(code, err, out, "6 of 7 inputs are bad", "good1.npy: no such file", "stereo.npy: no such file")


def test_train_names_every_bad_line_of_both_file_lists(tmp_path, capsys, tiny_config_json):
    root = tmp_path / "wavs"
    root.mkdir()
    for name in ("a", "b", "c"):
        wav(root / f"{name}.wav", tone(SR // 2))
    (tmp_path / "train.txt").write_text("a|one\n|two\nb|three\na|four\n")
    (tmp_path / "valid.txt").write_text("c|one\nc|two\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", tmp_path / "train.txt", "--valid-list", tmp_path / "valid.txt",
                       "--wav-root", root, "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    failed_cleanly(code, err, out, "3 of 6 inputs are bad", "train.txt: line 2: empty id",
                   "train.txt: line 4: 'a' is listed on line 1 too", "valid.txt: line 2: 'c' is listed on line 1 too")


def test_train_valid_count_0_says_validation_needs_a_file_and_how_to_turn_it_off(tmp_path, capsys, tiny_config_json):
    """--valid-count 0 holds nothing out, which needs validation off (--validation-interval 0): refused saying so,
    not as if it left no file for training."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        wav(corpus / f"c{i}.wav", tone(SR // 2))
    out = tmp_path / "run"
    for count, says in ((0, "--valid-count 0 holds nothing out, so there is nothing to validate: add "
                            "--validation-interval 0 (validation off), or hold out 1 or more files"),
                        (6, "cannot hold out 6 of 6 files (keep at least one for training)")):
        code, _, err = run(capsys, "train", "--corpus", corpus, "--config", tiny_config_json, "-o", out,
                           "--max-steps", 1, "--valid-count", count)
        (failed_cleanly if count == 0 else refused_after_scan)(code, err, out, says)  # 6: met drawing, after the scan


@pytest.mark.parametrize(("options", "problem"), [
    (["--report", "study", "-o", "out"],
     "--report takes the study folder alone (no --out, --reference, --system or --subset)"),
    (["--report", "study", "--subset"],
     "--report takes the study folder alone (no --out, --reference, --system or --subset)"),
    (["-o", "out", "--subset"],
     "--subset goes with --reference and --system (it chooses which recordings a study rates)"),
    ([], "give --out STUDY (a new or an existing study folder), or --report STUDY"),
    (["-o", "out"], "out: no study here yet: give --reference DIR and --system NAME=DIR to create one"),
    (["-o", "out", "--reference", "ref"], "no systems to rate: give --system NAME=DIR at least once"),
])
def test_listen_refuses_options_that_cannot_go_together_before_making_a_study(tmp_path, capsys, monkeypatch,
                                                                              options, problem):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "listen", *options)
    assert (code, err) == (2, f"hifigan listen: error: {problem}\n")
    assert list(tmp_path.iterdir()) == []
