"""`hifigan evaluate` at any rate: PESQ as ITU defines it (wide-band P.862.2 at 16 kHz from 16 kHz up, narrow-band
P.862 at 8 kHz from 8 kHz up, undefined below), STOI at its 10 kHz, and the mel metrics with the config of the
recordings' rate (given, or the one preset mel there), with one-line errors where the rate and config disagree."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soxr
from pesq import pesq

from hifigan.audio import load_audio, save_audio
from hifigan.config import load_config
from hifigan.evaluation.metrics import compute_metrics, metric_title, other_rates
from hifigan.evaluation.perceptual import pesq_band, pesq_mos, stoi
from hifigan.evaluation.spectral import mel_l1
from tests.support.cli_runs import one_line, run
from tests.support.files import save_config_json
from tests.support.signals import speechlike, with_noise_at_snr
from tests.support.tiny import tiny_config


def pair(rate: int, seconds: float = 1.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A speech-like recording at `rate` and a copy with white noise at 15 dB SNR."""
    x = speechlike(seconds, sr=rate, seed=seed)
    return x, with_noise_at_snr(x, 15.0, seed).astype(np.float32)


def folders(tmp_path, rate: int, count: int = 2) -> tuple[str, str]:
    ref, gen = tmp_path / f"ref{rate}", tmp_path / f"gen{rate}"
    ref.mkdir()
    gen.mkdir()
    for i in range(count):
        x, y = pair(rate, seed=i)
        save_audio(ref / f"c{i}.wav", x, rate)
        save_audio(gen / f"c{i}.wav", y, rate)
    return str(ref), str(gen)


@pytest.mark.parametrize(("rate", "measured_at", "mode"), [
    (48000, 16000, "wb"), (16000, 16000, "wb"), (11025, 8000, "nb"), (8000, 8000, "nb"),
])
def test_pesq_is_the_itu_band_of_the_rate(rate, measured_at, mode):
    """The value is the `pesq` package's own on the pair brought to the band's rate with soxr: wide-band from
    16 kHz up, narrow-band (not wide-band of an upsampled narrow band) from 8 kHz up."""
    x, y = pair(rate)
    at = (lambda s: s) if rate == measured_at else (
        lambda s: soxr.resample(s, rate, measured_at, quality="HQ").astype(np.float32))  # soxr's own, written out
    assert pesq_band(rate)[:2] == (measured_at, mode)
    assert pesq_mos(x, y, rate) == float(pesq(measured_at, at(x), at(y), mode))
    identical = pesq_mos(x, x.copy(), rate)
    assert identical == pytest.approx(4.644 if mode == "wb" else 4.549, abs=2e-3)  # each band's MOS-LQO maximum
    assert metric_title("pesq", rate) == f"PESQ ({mode})"


def test_pesq_is_undefined_below_8k():
    x, y = pair(6000)
    assert pesq_band(6000) is None and math.isnan(pesq_mos(x, y, 6000)) and metric_title("pesq", 6000) == "PESQ"


def test_pesq_is_undefined_where_it_finds_no_utterance():
    """A 20 Hz tone holds no speech: the pesq package raises NoUtterancesError; the value is NaN (a '-' in the
    table, null in the JSON), at 16 kHz and from 22.05 kHz brought to it."""
    from pesq import NoUtterancesError

    tone = {rate: (0.5 * np.sin(2 * np.pi * 20 * np.arange(rate) / rate)).astype(np.float32) for rate in (16000, 22050)}
    with pytest.raises(NoUtterancesError):
        pesq(16000, tone[16000], tone[16000], "wb")
    assert all(math.isnan(pesq_mos(x, x, rate)) for rate, x in tone.items())


@pytest.mark.parametrize(("rate", "metrics", "said"), [
    (22050, None, "PESQ (wb) at 16000 Hz, STOI and ESTOI at 10000 Hz"),
    (16000, ["pesq", "estoi"], "ESTOI at 10000 Hz"),  # wide-band PESQ is at the recordings' 16 kHz
    (12000, ["pesq", "stoi"], "PESQ (nb) at 8000 Hz, STOI at 10000 Hz"),
    (10000, None, "PESQ (nb) at 8000 Hz"),
    (6000, ["pesq", "stoi"], "STOI at 10000 Hz"),  # PESQ is undefined there, at no rate
    (44100, ["mel_l1", "snr", "f0_rmse_cents"], None),
])
def test_other_rates_names_the_metrics_measured_elsewhere(rate, metrics, said):
    assert other_rates(rate, metrics) == said


def test_stoi_is_measured_at_the_signals_rate():
    """pystoi resamples to its 10 kHz itself: the same pair at 48 kHz and at 16 kHz scores the same (a wrong
    rate given to it, e.g. 22050 for 48 kHz audio, moves the value by ~0.27)."""
    x, y = (with_noise_at_snr(speechlike(1.5, sr=48000), snr, 1).astype(np.float32) for snr in (80, 0))
    at16 = [soxr.resample(s, 48000, 16000, quality="HQ").astype(np.float32) for s in (x, y)]
    assert stoi(x, y, 48000) == pytest.approx(stoi(*at16, 16000), abs=0.005)
    assert stoi(x, y, 48000) < 0.95


@pytest.mark.parametrize(("rate", "preset"), [(44100, "bigvgan-44k"), (48000, "audiosr-48k")])
def test_the_preset_at_the_recordings_rate_gives_the_mel(tmp_path, capsys, rate, preset):
    """No --config: the one preset at that rate is used, said so, and recorded; the mel L1 is that config's."""
    ref, gen = folders(tmp_path, rate)
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "mel_l1,pesq,stoi",
                         "--out", f"{tmp_path}/report/", "--html")
    assert code == 0, err
    assert f"measured at {rate} Hz with the mel of config {preset} (the preset at the recordings' rate" in out
    # where PESQ and STOI are measured, as the report says "measured at" the recordings' rate
    assert "\nPESQ (wb) at 16000 Hz, STOI at 10000 Hz (resampled there, as their standards define them)\n" in out
    page = (tmp_path / "report" / "evaluation.html").read_text()
    assert f"{rate} Hz (PESQ (wb) at 16000 Hz, STOI at 10000 Hz) ·" in page
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    config = load_config(preset)
    settings = report["settings"]
    assert settings["stoi_rate"] == 10000
    assert settings["config"] == preset and settings["sampling_rate"] == rate
    assert settings["mel"] == config.mel_kwargs(for_loss=True)
    assert (settings["pesq_rate"], settings["pesq_mode"]) == (16000, "wb")
    for f in report["files"]:
        x, y = load_audio(f["reference"], rate), load_audio(f["generated"], rate)
        assert f["metrics"]["mel_l1"] == pytest.approx(mel_l1(x, y, config), rel=1e-6)
        assert f["metrics"]["pesq"] == pytest.approx(pesq_mos(x, y, rate), abs=1e-9)
        assert f["metrics"]["stoi"] == pytest.approx(stoi(x, y, rate), abs=1e-9) and f["metrics"]["stoi"] < 0.999


def test_8k_recordings_need_a_config_and_get_narrow_band_pesq(tmp_path, capsys):
    ref, gen = folders(tmp_path, 8000)
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "pesq")
    assert code == 2 and "recordings at 8000 Hz, and no preset is at that rate: give the model" in one_line(err)
    config = tiny_config()  # 8 kHz
    path = save_config_json(tmp_path / "tiny8k.json", config)
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--config", str(path),
                         "--metrics", "mel_l1,pesq", "--out", f"{tmp_path}/report/")
    assert code == 0, err
    assert f"measured at 8000 Hz with the mel of config {path}\nmetric " in out and "PESQ (nb)" in out  # at 8 kHz
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert (report["settings"]["pesq_rate"], report["settings"]["pesq_mode"]) == (8000, "nb")
    x, y = load_audio(f"{ref}/c0.wav", 8000), load_audio(f"{gen}/c0.wav", 8000)
    assert report["files"][0]["metrics"]["pesq"] == float(pesq(8000, x, y, "nb"))
    assert report["files"][0]["metrics"]["mel_l1"] == pytest.approx(mel_l1(x, y, config), rel=1e-6)


def test_a_rate_whose_presets_differ_in_mel_needs_a_config(tmp_path, capsys):
    pytest.importorskip("hifigan.mel", reason="pwg-24k's loss mel (centred frames) needs the mel front-end of issue 21")
    ref, gen = folders(tmp_path, 24000)
    args = ["--reference", ref, "--system", gen, "--metrics", "mel_l1"]
    code, _, err = run(capsys, "evaluate", *args)
    assert code == 2 and "recordings at 24000 Hz: give the model the audio was vocoded with (-c CKPT, --pretrained " \
        "NAME) or --config; the presets at that rate (bigvgan-24k, pwg-24k) have different mels" in one_line(err)
    code, out, err = run(capsys, "evaluate", *args, "--config", "pwg-24k")
    assert code == 0 and "measured at 24000 Hz with the mel of config pwg-24k\n" in out, err


def test_recordings_at_another_rate_than_the_config(tmp_path, capsys):
    """A one-line error naming the file and both rates, nothing written; --resample measures at the config's rate."""
    ref, gen = folders(tmp_path, 24000)
    args = ["--reference", ref, "--system", gen, "--metrics", "mel_l1", "--config", "v1",
            "--out", f"{tmp_path}/report/"]
    code, _, err = run(capsys, "evaluate", *args)
    expected = (f"{ref}/c0.wav: sample rate is 24000 Hz, the config v1 is at 22050 Hz: give --config at 24000 Hz "
                "(presets: bigvgan-24k, pwg-24k), or --resample to measure at 22050 Hz")
    assert code == 2 and expected in one_line(err)
    assert not (tmp_path / "report").exists()
    code, _, err = run(capsys, "evaluate", *args, "--resample")
    assert code == 0, err
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert report["settings"]["sampling_rate"] == 22050
    x, y = (load_audio(f"{d}/c1.wav", 22050, resample=True) for d in (ref, gen))
    assert report["files"][1]["metrics"]["mel_l1"] == pytest.approx(mel_l1(x, y, load_config("v1")), rel=1e-6)


def test_recordings_at_several_rates_need_a_config(tmp_path, capsys):
    ref, gen = folders(tmp_path, 16000)
    x, y = pair(22050)
    save_audio(f"{ref}/c1.wav", x, 22050)
    save_audio(f"{gen}/c1.wav", y, 22050)
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "snr")
    assert code == 2 and f"{ref}/c1.wav: sample rate is 22050 Hz, c0.wav is at 16000 Hz" in one_line(err)


def test_every_recording_at_another_rate_than_the_config_is_named_in_one_line(tmp_path, capsys):
    """docs/commands.md rule 3: one line names every bad input, as for a system folder at another rate."""
    ref, gen = folders(tmp_path, 16000, count=3)
    x, y = pair(22050, seed=5)
    save_audio(f"{ref}/c1.wav", x, 22050)  # the one recording at the config's rate
    save_audio(f"{gen}/c1.wav", y, 22050)
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "snr", "--config", "v1",
                       "--out", f"{tmp_path}/report/")
    line = one_line(err)
    assert code == 2 and "4 of 6 inputs are bad (nothing was written)" in line, err
    for stem in ("c0", "c2"):  # their partners too, in the same line: a rerun with --config v1 alone fails on them
        assert f"{ref}/{stem}.wav: sample rate is 16000 Hz, the config v1 is at 22050 Hz" in line
        assert f"{gen}/{stem}.wav: sample rate is 16000 Hz, expected 22050 Hz (use --resample)" in line
    assert f"{ref}/c1.wav" not in line
    assert not (tmp_path / "report").exists()


def test_every_recording_at_another_rate_than_the_commonest_is_named_in_one_line(tmp_path, capsys):
    """The rate most recordings share is the one measured at (the first file's was, which named every other file
    when that one was the odd one out), and its generated partner is checked against it like any other."""
    ref, gen = folders(tmp_path, 16000, count=3)
    for i in (1, 2):
        x, y = pair(22050, seed=i)
        save_audio(f"{ref}/c{i}.wav", x, 22050)
        save_audio(f"{gen}/c{i}.wav", y, 22050)
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "snr")
    line = one_line(err)
    assert code == 2 and line.endswith(
        f"2 of 6 inputs are bad (nothing was written): {gen}/c0.wav: sample rate is 16000 Hz, expected 22050 Hz (use "
        f"--resample) | {ref}/c0.wav: sample rate is 16000 Hz, c1.wav is at 22050 Hz: the recordings must share one "
        "rate; give --config (and --resample to measure at its rate)"), line  # in path order: gen16000 < ref16000


def test_compute_metrics_follows_the_configs_rate():
    """The same 16 kHz pair scored with a 16 kHz config: PESQ is wide-band on the signals as they are."""
    config = tiny_config(sampling_rate=16000)
    x, y = pair(16000)
    values = compute_metrics(x, y, config, ["mel_l1", "pesq"])
    assert values["pesq"] == float(pesq(16000, x, y, "wb"))
    assert values["mel_l1"] == pytest.approx(mel_l1(x, y, config), rel=1e-9)


def test_a_file_named_like_a_preset_does_not_change_the_automatic_choice(tmp_path, capsys, monkeypatch):
    """The presets at the recordings' rate are the package's files, not files of those names in the current folder
    (a user's own config saved as `v3`, with its own mel, must not make 22050 Hz ambiguous or change its mel)."""
    ref, gen = folders(tmp_path, 22050)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v3").write_text(json.dumps({"num_mels": 64}))
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "mel_l1",
                         "--out", "report/")
    assert code == 0, err
    assert "measured at 22050 Hz with the mel of config v1 (the preset at the recordings' rate" in out
    settings = json.loads((tmp_path / "report" / "evaluation.json").read_text())["settings"]
    assert settings["mel"] == load_config("v1").mel_kwargs(for_loss=True)
