"""librosa's dB mels of LJ001-0002 at V1's settings: of the magnitude (amplitude_to_db(melspectrogram(power=1))) and
of the power, librosa's default (power_to_db(melspectrogram())). Both read as db clipped at top_db 80, and only the
level tells them apart; only the magnitude's converts to the official mel, so every advice of --mel-convention db
(check-mel's line and summary, vocode's warning, train's) names both readings."""

import warnings

import librosa
import numpy as np
import pytest

from hifigan.audio import load_audio
from hifigan.config import load_config
from hifigan.data.teacher_mels import train_option
from hifigan.melconv import MelVerdict, ModelMel, detect, to_official
from hifigan.melconv.vocode_input import MelInput, check_vocode_mel
from tests.support.cli_runs import run
from tests.support.files import CORPUS
from tests.support.mel_cases import official

READINGS = ("(if it is a mel of the magnitude: librosa amplitude_to_db(melspectrogram(power=1)); a mel of the power, "
            "librosa's default power=2, has no exact map: compute the mel from the audio with `hifigan mel`)")
V1 = ModelMel.of(load_config("v1"))


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return load_audio(CORPUS / "LJ001-0002.wav", 22050).astype(np.float64)


@pytest.fixture(scope="module")
def mels(audio, tmp_path_factory):
    """The two dB mels, computed in float64 on the official framing (reflect-padded 384 each side, not centred) with
    librosa's dB defaults (ref 1, top_db 80), saved float32 as magnitude.npy and power.npy."""
    folder = tmp_path_factory.mktemp("db_power")
    y = np.pad(audio, (384, 384), mode="reflect")
    kw = dict(y=y, sr=22050, n_fft=1024, hop_length=256, center=False, n_mels=80, fmin=0, fmax=8000,
              dtype=np.float64)
    np.save(folder / "magnitude.npy",
            librosa.amplitude_to_db(librosa.feature.melspectrogram(power=1.0, **kw)).astype(np.float32))
    np.save(folder / "power.npy",
            librosa.power_to_db(librosa.feature.melspectrogram(power=2.0, **kw)).astype(np.float32))
    return folder


def test_check_mel_names_both_readings_in_each_line_and_the_summary(mels, capsys):
    code, out, _ = run(capsys, "check-mel", mels / "magnitude.npy", mels / "power.npy")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3, out
    for line in lines[:2]:
        assert ": db (clipped at top_db 80 (values below it are lost)), confidence 0.85 [" in line, line
        assert line.endswith(f"; convert: --mel-convention db {READINGS}"), line
    assert lines[2].endswith(f"2 do not: 2 db; --mel-convention db {READINGS} converts the most (2 of 2)"), lines[2]


def test_vocode_and_train_name_both_readings(mels):
    for name in ("magnitude", "power"):
        with pytest.warns(UserWarning) as caught:
            check_vocode_mel(mels / f"{name}.npy", V1)
        assert str(caught[0].message).endswith(f"; convert: --mel-convention db {READINGS}"), caught[0].message
        verdict = detect(np.load(mels / f"{name}.npy"), 80, V1)
        assert train_option(verdict, cli=False) == f"mel_convention='db' {READINGS}"
    # Declared db, the power's is taken as the model's mel less its clip (melconv.clipped), 1.67 nats too loud: the
    # values cannot tell it from the magnitude's. Where a file declared db still reads as db, the power reading is
    # what is left to check.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_vocode_mel(mels / "power.npy", V1, MelInput("db"))
    assert caught == []
    assert MelVerdict("db", 0.85, declared="db").option == (
        "no other conversion known: the file as given reads as --mel-convention db, which was given; check the "
        "front-end that made it (a mel of the power, librosa's default power=2, has no exact map: compute the mel "
        "from the audio with `hifigan mel`)")


def test_only_the_magnitudes_db_mel_converts_to_the_official_mel(mels, audio):
    """Above the clip, the magnitude's is the official mel to 2.2e-6 nats where that lies above -6 (4.4e-7 of it the
    float32 file; the rest, and up to 3.1e-4 below -6, the official 1e-9 inside its square root). The power's comes
    out 1.51 to 2.96 nats above it (mean 1.67, about 14.5 dB; std 0.13): sum(w |X|^2) is no (sum(w |X|))^2."""
    reference = official(audio)
    magnitude, power = np.load(mels / "magnitude.npy"), np.load(mels / "power.npy")
    kept = magnitude > magnitude.min() + 1e-3  # above the top_db clip
    assert 0.9 < kept.mean() < 0.95
    error = np.abs(to_official(magnitude, "db") - reference)
    assert error[kept & (reference > -6)].max() < 3e-6
    assert error[kept].max() < 4e-4
    above = (to_official(power, "db") - reference)[power > power.min() + 1e-3]
    assert above.min() > 1.4 and 1.6 < above.mean() < 1.75 and above.std() < 0.2
