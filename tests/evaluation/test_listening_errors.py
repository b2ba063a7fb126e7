"""`hifigan listen`'s bad input is one line, exit 2, and leaves no study behind: stimuli missing, extra, not audio,
undecodable or non-finite, a folder that is not one, a reserved name, another study's folder (every bad stimulus
named in the one line); another --seed for a study already created is a warning."""

from __future__ import annotations

import numpy as np
import pytest

from hifigan.evaluation.listening.study import study_for
from tests.support.listen_server import create_study, run_busy, write_stimuli

SYSTEMS = ["v1", "v3"]


@pytest.mark.parametrize("case, expected", [
    ("missing", "system 'v3' has no clip 'clip01'"),
    ("extra", "no reference clip with stem 'clip09'"),
    ("not-audio", "not a readable audio file"),
    ("undecodable", "clip01.flac: not a readable audio file"),
    ("non-finite", "clip01.wav: contains non-finite samples (NaN or inf)"),  # was copied into the study
    ("not-a-folder", "is not a folder"),
    ("reserved", "reserved"),
    ("no-reference", "--system needs --reference"),
    ("other-study", "holds a study of other audio"),
    ("no-study", "holds no study"),
])
def test_bad_input_is_one_line(tmp_path, capsys, case, expected):
    stim = tmp_path / "stim"
    write_stimuli(stim, 2, SYSTEMS)
    args = ["listen", "--reference", str(stim / "reference"), "--system", f"v1={stim / 'v1'}",
            "--system", f"v3={stim / 'v3'}", "--out", str(tmp_path / "study")]
    if case == "missing":
        (stim / "v3" / "clip01.wav").unlink()
    elif case == "extra":
        (stim / "v1" / "clip09.wav").write_bytes((stim / "v1" / "clip00.wav").read_bytes())
    elif case == "not-audio":
        (stim / "v1" / "clip01.wav").write_text("hello")
    elif case == "undecodable":  # the FLAC header reads; its audio does not decode
        import soundfile as sf

        wav = stim / "v1" / "clip01.wav"
        sf.write(wav.with_suffix(".flac"), sf.read(wav, dtype="int16")[0], sf.info(wav).samplerate)
        wav.unlink()
        flac = bytearray(wav.with_suffix(".flac").read_bytes())
        flac[200:] = bytes(range(256)) * (len(flac[200:]) // 256) + bytes(len(flac[200:]) % 256)
        wav.with_suffix(".flac").write_bytes(bytes(flac))
    elif case == "non-finite":  # a diverged vocoder's float WAV: evaluate refuses it, and so must the study
        import soundfile as sf

        wav = stim / "v1" / "clip01.wav"
        samples, rate = sf.read(wav, dtype="float32")
        samples[10] = np.nan
        sf.write(wav, samples, rate, subtype="FLOAT")
    elif case == "not-a-folder":
        args[2] = str(stim / "reference" / "clip00.wav")
    elif case == "reserved":
        args[6] = f"reference={stim / 'v3'}"
    elif case == "no-reference":
        args = args[:1] + args[3:]
    elif case == "other-study":
        create_study(tmp_path, SYSTEMS)
        (stim / "v1" / "clip00.wav").write_bytes((stim / "v3" / "clip00.wav").read_bytes())
    elif case == "no-study":
        args = ["listen", "--report", str(tmp_path)]
    capsys.readouterr()
    assert run_busy(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    if case != "other-study":
        assert not (tmp_path / "study" / "study.sqlite").exists() and not (tmp_path / "study" / "audio").exists()
    if case not in ("other-study", "no-study"):
        assert not (tmp_path / "study").exists()


def test_every_bad_stimulus_is_named_in_one_line(tmp_path, capsys):
    """A missing clip, a stem the reference lacks and a file that is not audio, in two systems: one line names all
    three (docs/commands.md rule 3: one rerun, not three), and nothing is created."""
    stim = tmp_path / "stim"
    write_stimuli(stim, 2, SYSTEMS)
    (stim / "v3" / "clip01.wav").unlink()
    (stim / "v3" / "clip09.wav").write_bytes((stim / "v3" / "clip00.wav").read_bytes())
    (stim / "v1" / "clip01.wav").write_text("hello")
    capsys.readouterr()
    assert run_busy(["listen", "--reference", str(stim / "reference"), "--system", f"v1={stim / 'v1'}",
                     "--system", f"v3={stim / 'v3'}", "--out", str(tmp_path / "study")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("hifigan listen: error: 3 of 7 inputs are bad (nothing was written): "), line
    for expected in ("system 'v3' has no clip 'clip01'", "no reference clip with stem 'clip09'",
                     "clip01.wav: not a readable audio file"):
        assert expected in line, (expected, line)
    assert not (tmp_path / "study").exists()


def test_continuing_a_study_with_another_seed_is_a_warning(tmp_path):
    """The trial orders are fixed when a study is created: another --seed later changes nothing, and says so."""
    import warnings

    stim = tmp_path / "stim"
    write_stimuli(stim, 2, SYSTEMS)
    folders = (stim / "reference", {s: stim / s for s in SYSTEMS})
    created = study_for(tmp_path / "study", *folders, seed=7)
    assert created.meta("seed") == "7"
    with pytest.warns(UserWarning, match=r"^--seed 3 is ignored: the study's trial orders were fixed when it was "
                                         r"created \(seed 7\)$"):
        study_for(tmp_path / "study", *folders, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in (7, None):  # its own seed, or none given: nothing to say
            assert study_for(tmp_path / "study", None, {}, seed=seed).meta("seed") == "7"
    assert study_for(tmp_path / "other", *folders, seed=None).meta("seed") == "0"  # a new study's default
