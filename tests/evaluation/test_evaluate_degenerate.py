"""`hifigan evaluate` on what failed systems produce (silence, clips too short for PESQ, near-silence, overflowing
float WAVs): every pair scored or each undefined metric named with its cause, counted in the table, the JSON strict
JSON and the page saying the same."""

from __future__ import annotations

import json
import math
import pickle
import warnings

import numpy as np
import soundfile as sf

from hifigan.config import load_config
from hifigan.evaluation.evaluate import evaluate_pairs
from hifigan.evaluation.metrics import compute_metrics
from hifigan.evaluation.perceptual import pesq_mos
from hifigan.evaluation.undefined import OVERFLOW, SILENT_GENERATED, SILENT_REFERENCE, Undefined
from tests.support.cli_runs import run
from tests.support.signals import SR, speechlike, with_noise_at_snr

CONFIG = load_config("v1")


def strict_json(text: str) -> dict:
    """json.loads that refuses NaN, Infinity and -Infinity (which Python writes but JSON does not have)."""
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_each_cause_of_an_undefined_value_is_counted_in_the_table_json_and_page(tmp_path, capsys):
    """A silent recording, a generator that outputs silence, and a clip of 0.15 s (enough for the MR-STFT, not for
    PESQ's 1/4 s nor STOI's 30 frames): one line per cause names the metrics and files (3 pairs: no worker pool)."""
    ref_dir, gen_dir = tmp_path / "ref", tmp_path / "gen"
    ref_dir.mkdir()
    gen_dir.mkdir()
    speech, short = speechlike(1.0), speechlike(0.15, seed=1)
    silence = np.zeros(SR, np.float32)
    pairs = {"mute": (speech, silence),
             "quiet": (silence, speech), "short": (short, with_noise_at_snr(short, 20.0, seed=1))}
    for stem, (reference, generated) in pairs.items():
        sf.write(ref_dir / f"{stem}.wav", reference, SR, subtype="FLOAT")
        sf.write(gen_dir / f"{stem}.wav", generated, SR, subtype="FLOAT")
    code, out, err = run(capsys, "evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics",
                         "mrstft,snr,pesq,stoi", "--out", f"{tmp_path}/r/", "--html", "--no-progress")
    assert code == 0, err
    causes = [
        f"MR-STFT, SNR, PESQ (wb), STOI undefined for 1 file (quiet): {SILENT_REFERENCE}",
        f"PESQ (wb) undefined for 1 file (mute): {SILENT_GENERATED}",
        "PESQ (wb) undefined for 1 file (short): shorter than PESQ's 1/4 s",
        "STOI undefined for 1 file (short): too little audio for STOI: fewer than 30 frames within 40 dB of the "
        "loudest",
    ]
    assert out.splitlines()[-len(causes) - 1:-1] == causes  # then the `wrote` line
    report = strict_json((tmp_path / "r" / "evaluation.json").read_text())
    files = {f["stem"]: f for f in report["files"]}
    assert files["short"]["undefined"] == {"pesq": "shorter than PESQ's 1/4 s", "stoi": causes[-1].split(": ", 1)[1]}
    assert files["quiet"]["undefined"] == dict.fromkeys(["mrstft", "snr", "pesq", "stoi"], SILENT_REFERENCE)
    assert files["quiet"]["metrics"]["mrstft"] is None  # was 3006 (spectral convergence over the silence's floor)
    assert files["mute"]["metrics"]["snr"] == 0.0 and files["mute"]["metrics"]["stoi"] == 0.0  # scored
    pesq = report["summary"]["pesq"]
    assert (pesq["n"], pesq["n_undefined"]) == (0, 3) and pesq["mean"] is None
    assert pesq["undefined_causes"] == {SILENT_REFERENCE: 1, SILENT_GENERATED: 1, "shorter than PESQ's 1/4 s": 1}
    assert report["summary"]["mrstft"]["mean"] == np.mean([files[s]["metrics"]["mrstft"]
                                                            for s in ("mute", "short")])
    page = (tmp_path / "r" / "evaluation.html").read_text()
    for cause in causes:
        assert f"<li>{cause.replace(chr(39), '&#39;')}</li>" in page
    assert f'<span class="note undefined">({SILENT_GENERATED})</span>' in page


def test_generated_audio_too_quiet_for_pesq_is_undefined_not_a_crash():
    """A collapsed generator's near-silence (peak 3e-26): the pesq package raised ValueError ('cannot convert float
    NaN to integer'), which stopped the whole evaluation as an internal error."""
    speech = speechlike(1.0)
    value = pesq_mos(speech, (speech * 1e-25).astype(np.float32), SR)
    assert math.isnan(value) and "too quiet for PESQ" in value.reason
    assert 4.6 < pesq_mos(speech, speech * 1e-15, SR) < 4.65  # quiet, but PESQ levels it: scored


def test_overflowing_audio_is_undefined_not_infinity_in_the_json(tmp_path):
    """A diverged generator's float WAV with finite samples near 1e30: the MR-STFT overflowed to inf and the JSON
    held `Infinity` (not JSON), the table `inf`; now the overflow is a cause like any other."""
    speech = speechlike(0.5)
    sf.write(tmp_path / "ref.wav", speech, SR, subtype="FLOAT")
    sf.write(tmp_path / "gen.wav", (speech * 1e30).astype(np.float32), SR, subtype="FLOAT")
    report = evaluate_pairs([("a", tmp_path / "ref.wav", tmp_path / "gen.wav")], CONFIG, tmp_path / "r",
                            metrics=["mrstft", "snr"], progress=False)
    saved = strict_json((tmp_path / "r.json").read_text())
    assert saved["files"][0]["metrics"]["mrstft"] is None and saved["files"][0]["undefined"] == {"mrstft": OVERFLOW}
    assert saved["files"][0]["metrics"]["snr"] < -500  # finite: scored
    assert "inf" not in report.format_table(per_file=True)


def test_overflowing_audio_warns_nothing_and_pesq_names_the_overflow():
    """Samples near 1e30: pYIN's float32 squares overflowed (numpy RuntimeWarnings on the console, no frame voiced)
    and PESQ's did too, which it reported as finding no utterance. pYIN now tracks it as the speech it is scaled
    from, silently; PESQ's cause is the overflow, as the other metrics' is."""
    speech = speechlike(0.5)
    names = ["pesq", "f0_rmse_cents", "vuv_f1", "periodicity_rmse"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = compute_metrics(speech, (speech * 1e30).astype(np.float32), CONFIG, names)
    assert [str(w.message) for w in caught] == []
    assert values["pesq"].reason == OVERFLOW
    same = compute_metrics(speech, speech, CONFIG, names[1:])
    assert (values["f0_rmse_cents"], values["vuv_f1"], values["periodicity_rmse"]) == (0.0, 1.0, 0.0) == tuple(
        same.values())
    assert 4.6 < pesq_mos(speech, speech * 1e19, SR) < 4.65  # loud, within float32's squares: scored


def test_pitch_metrics_name_their_causes_and_undefined_survives_pickling():
    """Silence in both: no frame voiced in both (F0 RMSE), none voiced at all (V/UV F1); the periodicity RMSE is 0.
    The cause travels from worker processes with the value (pickle) and into reports (deepcopy by asdict)."""
    silence = np.zeros(4096, np.float32)
    values = compute_metrics(silence, silence, CONFIG, ["f0_rmse_cents", "vuv_f1", "periodicity_rmse"])
    assert values["f0_rmse_cents"].reason == "no frame is voiced in both"
    assert values["vuv_f1"].reason == "neither has a voiced frame" and values["periodicity_rmse"] == 0.0
    copy = pickle.loads(pickle.dumps(Undefined("why")))
    assert isinstance(copy, Undefined) and copy.reason == "why" and math.isnan(copy)
