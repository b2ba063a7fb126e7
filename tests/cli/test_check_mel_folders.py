"""`hifigan check-mel DIR`: a folder gives its .npy files anywhere below (as mel and vocode read one), one verdict
line each, then a last line that counts them; a folder of no .npy file is refused in one line, as mel's and
vocode's; the model may be any source (--config, -c, --pretrained)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.cli_runs import BINS, one_line, run
from tests.support.pretrained_fake import register

TINY = "official, 8000 Hz, hop 16"  # the tiny model's mel as each line describes it


def official(seed: int, bins: int = BINS) -> np.ndarray:
    """An official log mel: ln of a magnitude floored at 1e-5, about 5% of the values on the floor (the evidence
    that tells log10 and dB copies of it apart: their floors are -5 and -100)."""
    rng = np.random.default_rng(seed)
    magnitude = rng.gamma(1.0, 0.05, (bins, 200)) * (rng.random((bins, 200)) > 0.05)
    return np.log(np.clip(magnitude, 1e-5, None)).astype(np.float32)


def save(path: Path, mel: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, mel)
    return path


@pytest.fixture
def gta(tmp_path) -> Path:
    """Three official mels and two log10 ones, nested two deep, beside a WAV, a text file and a hidden .npy that
    are no input: gta/a.npy, gta/spk1/b.npy, gta/spk1/l10.npy, gta/spk2/deep/c.npy, gta/spk2/deep/l10b.npy."""
    root = tmp_path / "gta"
    save(root / "a.npy", official(0))
    save(root / "spk1" / "b.npy", official(1))
    save(root / "spk1" / "l10.npy", official(2) / np.float32(np.log(10)))
    save(root / "spk2" / "deep" / "c.npy", official(3))
    save(root / "spk2" / "deep" / "l10b.npy", official(4) / np.float32(np.log(10)))
    save(root / ".cache" / "hidden.npy", np.zeros((3, 3), np.float32))
    (root / "spk1" / "notes.txt").write_text("not a mel")
    (root / "spk1" / "take.wav").write_bytes(b"RIFF")
    return root


def test_a_nested_folder_gives_a_line_per_file_and_the_counts(gta, capsys, tiny_config_json):
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, gta)
    lines = out.splitlines()
    files = ["a.npy", "spk1/b.npy", "spk1/l10.npy", "spk2/deep/c.npy", "spk2/deep/l10b.npy"]
    assert [line.split(": ")[0] for line in lines[:-1]] == [str(gta / f) for f in files]
    assert [("does NOT fit" in line, "fits the model's mel" in line) for line in lines[:-1]] == [
        (False, True), (False, True), (True, False), (False, True), (True, False)]
    assert lines[-1] == (f"checked 5 files against the model's mel ({TINY}): 3 fit; 2 do not: 2 log10; "
                         "--mel-convention log10 converts the most (2 of 2)")
    assert (code, err) == (1, "")
    code, quiet, _ = run(capsys, "check-mel", "--config", tiny_config_json, "-q", gta)
    assert (code, quiet.splitlines()) == (1, lines[:-1])  # --quiet: the verdicts without the last line


def test_the_counts_name_each_convention_and_the_files_it_cannot_judge(gta, tmp_path, capsys, tiny_config_json):
    save(gta / "spk2" / "t.npy", official(5).T * np.float32(20 / np.log(10)))  # dB, [frames, bins]
    (gta / "spk2" / "broken.npy").write_bytes(b"not an array")
    loose = save(tmp_path / "loose.npy", official(6))  # a file beside the folder: its line comes after the folder's
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, gta, loose)
    lines = out.splitlines()
    assert len(lines) == 9 and f"{gta / 'spk2' / 'broken.npy'}: cannot be judged: " in lines[3]
    assert lines[7].startswith(f"{loose}: fits the model's mel")
    assert lines[-1] == (f"checked 8 files against the model's mel ({TINY}): 4 fit; 3 do not: 2 log10, "
                         "1 transposed+db; --mel-convention log10 converts the most (2 of 3); 1 is not a mel it "
                         "can judge")
    assert code == 2 and one_line(err) == (f"hifigan check-mel: error: 1 of 8 files is not a mel it can judge: "
                                           f"{gta / 'spk2' / 'broken.npy'}")


def test_one_file_has_no_last_line(gta, capsys, tiny_config_json):
    code, out, _ = run(capsys, "check-mel", "--config", tiny_config_json, gta / "spk1")  # b.npy, l10.npy
    assert code == 1 and out.splitlines()[-1].startswith("checked 2 files")
    code, out, _ = run(capsys, "check-mel", "--config", tiny_config_json, gta / "a.npy")
    assert code == 0 and len(out.splitlines()) == 1


def test_a_folder_of_no_npy_is_refused_in_one_line_before_any_file_is_judged(gta, tmp_path, capsys,
                                                                               tiny_config_json):
    (tmp_path / "empty").mkdir()
    (tmp_path / "wavs").mkdir()
    (tmp_path / "wavs" / "a.wav").write_bytes(b"RIFF")
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, tmp_path / "empty")
    assert (code, out, err) == (2, "", f"hifigan check-mel: error: {tmp_path / 'empty'}: contains no mel files "
                                       "(.npy)\n")
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, gta, tmp_path / "wavs", tmp_path / "empty")
    assert (code, out) == (2, "")
    assert one_line(err) == (f"hifigan check-mel: error: 2 of 7 inputs are bad (nothing was written): "
                             f"{tmp_path / 'wavs'}: contains no mel files (.npy) | {tmp_path / 'empty'}: contains no "
                             "mel files (.npy)")


def test_a_file_given_twice_is_refused_before_any_file_is_judged(gta, capsys, tiny_config_json):
    """`check-mel b.npy ./b.npy` judged one file twice ("checked 2 files ... 2 fit"): a file given twice, however
    spelled or through a folder that holds it, is refused as vocode refuses it, in one line, before any verdict."""
    a, b = gta / "a.npy", gta / "spk1" / "b.npy"
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, b, gta / "spk1" / "." / "b.npy", a)
    assert (code, out) == (2, "")
    assert one_line(err) == (f"hifigan check-mel: error: {gta / 'spk1' / '.' / 'b.npy'}: the same file as {b}: an "
                             "input given twice (give each once)")
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, gta, a)
    assert (code, out) == (2, "")
    assert one_line(err) == (f"hifigan check-mel: error: {a}: the same file as {a}: an input given twice (give each "
                             "once)")


def test_a_folder_is_judged_against_a_checkpoint_or_a_pretrained_model(gta, tmp_path, capsys, monkeypatch,
                                                                       tiny_checkpoint, tiny80):
    code, out, _ = run(capsys, "check-mel", "-c", tiny_checkpoint, gta / "spk2")
    assert code == 1 and out.splitlines()[-1] == (f"checked 2 files against the model's mel ({TINY}): 1 fits; 1 does "
                                                  "not: 1 log10; --mel-convention log10 converts the most (1 of 1)")
    register(tmp_path, monkeypatch, tiny80)
    save(tmp_path / "m80" / "x" / "a.npy", official(6, bins=80))
    save(tmp_path / "m80" / "b.npy", official(7, bins=80))
    code, out, _ = run(capsys, "check-mel", "--pretrained", "tiny-test", tmp_path / "m80")
    assert code == 0 and out.splitlines()[-1] == (f"checked 2 files against the model's mel ({TINY}): 2 fit")


def test_the_error_line_names_the_first_files_it_cannot_judge_and_counts_the_rest(tmp_path, capsys,
                                                                                  tiny_config_json):
    """A folder of thousands of mels of the wrong bin count named every path in one stderr line (93 KB for 2016):
    it names LISTED_AT_MOST, as bad_inputs does, and counts the others; each file's line still says why."""
    from hifigan.errors import LISTED_AT_MOST

    for i in range(LISTED_AT_MOST + 2):
        save(tmp_path / "wide" / f"m{i:02d}.npy", official(i, bins=BINS + 1))
    code, out, err = run(capsys, "check-mel", "--config", tiny_config_json, tmp_path / "wide")
    named = ", ".join(str(tmp_path / "wide" / f"m{i:02d}.npy") for i in range(LISTED_AT_MOST))
    assert code == 2 and one_line(err) == (f"hifigan check-mel: error: {LISTED_AT_MOST + 2} of {LISTED_AT_MOST + 2} "
                                           f"files are not mels it can judge: {named} and 2 more (each one's line "
                                           "says why)")
    assert out.count(f"cannot be judged: mel has {BINS + 1} bins, the model expects {BINS}") == LISTED_AT_MOST + 2


def test_a_tie_in_the_counts_goes_by_a_rule_not_by_the_files_order(tmp_path, capsys, tiny_config_json):
    """One file of each of two conventions: the option named was the first file's. Now the model's own convention
    (only the layout differs) comes first, then an exact map before db's (magnitude or power, which its values
    cannot tell), whichever file comes first."""
    db = official(0).T * np.float32(20 / np.log(10))  # dB, [frames, bins]
    cases = {"own": (official(1).T, "--mel-convention transposed converts the most (1 of 2)"),
             "exact": (official(2) / np.float32(np.log(10)), "--mel-convention log10 converts the most (1 of 2)")}
    for name, (other, named) in cases.items():
        for first, second in ((db, other), (other, db)):
            folder = tmp_path / f"{name}{len(list(tmp_path.iterdir()))}"
            save(folder / "a.npy", first)
            save(folder / "b.npy", second)
            code, out, _ = run(capsys, "check-mel", "--config", tiny_config_json, folder)
            assert code == 1 and out.splitlines()[-1].endswith(named), out


def test_a_mel_of_other_bins_than_the_default_model_s_names_the_model_options(tmp_path, capsys, tiny_config_json):
    """A 16-bin mel judged with no model named (the default, v1: 80 bins) said only 'the model expects 80'; a 24 kHz
    model's user had to know the default is v1. It now names the options; with a model named, the bins alone."""
    mel = save(tmp_path / "m.npy", official(0))
    code, out, _ = run(capsys, "check-mel", mel)
    assert code == 2 and out == (f"{mel}: cannot be judged: mel has 16 bins, the model expects 80 (judged against the "
                                 "default model, v1: name the mels' model with -c CKPT, --pretrained NAME or "
                                 "--config)\n")
    code, out, _ = run(capsys, "check-mel", "--config", "bigvgan-24k", mel)
    assert code == 2 and out == f"{mel}: cannot be judged: mel has 16 bins, the model expects 100\n"
    code, out, _ = run(capsys, "check-mel", "--config", tiny_config_json, mel)
    assert code == 0 and "fits the model's mel" in out
