"""detect's less common answers, each from the user's side: a batched or bad array given to the API, a mel clipped at
top_db 80 (librosa's amplitude_to_db default), a log mel two readings fit equally, a non-negative mel of unclear
power, a linear model's mels, and check-mel on a [frames, num_mels] file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hifigan.cli import main
from hifigan.melconv import ModelMel, detect
from hifigan.melconv.verdict import DB_MAGNITUDE, DB_POWER
from tests.support.tiny import tiny_config


def uniform(low: float, high: float, bins: int = 80) -> np.ndarray:
    return np.random.default_rng(0).uniform(low, high, size=(bins, 40))


def test_a_batch_of_one_is_judged_as_the_mel_in_it():
    x = uniform(-9.0, -1.0)
    x[:, :5] = math.log(1e-5)
    assert detect(x[None]).line() == detect(x).line()
    assert detect(x[None]).official and not detect(x[None]).transposed


@pytest.mark.parametrize("bad", [np.zeros((80, 4), np.int16), np.zeros((2, 80, 4)), np.zeros(80), np.zeros((80, 0)),
                                 np.full((80, 4), np.nan)])
def test_what_is_no_mel_is_a_value_error(bad):
    with pytest.raises(ValueError, match=r"^expected a finite floating-point mel of shape \[num_mels, frames\]$"):
        detect(bad)


def test_a_db_mel_clipped_80_db_below_its_maximum_is_db():
    """librosa.amplitude_to_db(ref=1.0, top_db=80): max -5.2 dB, values below -85.2 dB raised to it."""
    db = 20 * np.log10(np.exp(uniform(-14.0, -0.6)))
    verdict = detect(np.maximum(db, db.max() - 80.0))
    assert (verdict.convention, verdict.confidence, verdict.detail) == (
        "db", 0.85, "clipped at top_db 80 (values below it are lost)")
    assert verdict.option == f"--mel-convention db ({DB_MAGNITUDE}; {DB_POWER})"  # or a mel of the power


def test_a_log_mel_two_readings_fit_equally_is_unknown_and_named_as_its_values_allow():
    """No floor, values in [-11.8, -3.4]: natural log and log10-power give spreads equally far from speech's. Below
    ln(1e-5), the natural-log reading is ln-floor, not official."""
    verdict = detect(uniform(-11.8, -3.4))
    assert (verdict.convention, verdict.confidence, verdict.detail) == (
        "unknown", 0.3, "ln-floor or log10-power (spread 8.24)")


@pytest.mark.parametrize(("convention", "expected", "confidence", "detail"), [
    (None, "unknown", 0.3, "non-negative (linear?), magnitude or power unclear"),
    ("linear-magnitude", "linear-magnitude", 0.5, "non-negative, as the model's"),
    ("linear-power", "linear-power", 0.5, "non-negative, as the model's"),
])
def test_a_non_negative_mel_of_unclear_power_is_the_linear_models_own(convention, expected, confidence, detail):
    """Values in [0.5, 1.5]: a log spread of 1 nat, neither a magnitude's nor a power's; a linear model's own."""
    model = None if convention is None else ModelMel(convention, None, None, 80, 22050, 256)
    verdict = detect(uniform(0.5, 1.5), 80, model)
    assert (verdict.convention, verdict.confidence, verdict.detail, verdict.matches) == (
        expected, confidence, detail, convention is not None)


@pytest.mark.parametrize("layout", ["bins-first", "frames-first"])
def test_check_mel_judges_a_log_mel_against_a_linear_model_in_either_layout(tmp_path, capsys, layout):
    """An official mel is not a linear-magnitude model's: check-mel names the option that converts it, with
    transposed for a [frames, num_mels] file."""
    config = tmp_path / "linear.json"
    config.write_text(json.dumps(tiny_config(mel_convention="linear-magnitude").to_dict()))
    x = uniform(-9.0, -1.0, bins=16)
    x[:, :5] = math.log(1e-5)
    np.save(tmp_path / "m.npy", (x if layout == "bins-first" else x.T).astype(np.float32))
    assert main(["check-mel", "--config", str(config), str(tmp_path / "m.npy")]) == 1
    out = capsys.readouterr().out
    shown, option = ("", "official") if layout == "bins-first" else ("transposed, ", "transposed")
    assert out.startswith(f"{tmp_path / 'm.npy'}: does NOT fit the model's mel (linear-magnitude, 8000 Hz, hop 16): "
                          f"{shown}official (floor exactly ln(1e-5)), confidence 0.99 ["), out
    assert out.endswith(f"]; convert: --mel-convention {option}\n"), out
