"""`hifigan evaluate` against the model the audio was vocoded with (-c CKPT, --pretrained NAME), as vocode names it:
its config (rate, and the mel the mel metrics use) read from the checkpoint or the registry, where a model at a rate
without one preset mel (8 kHz, 24 kHz, ...) needed its config restated with --config."""

from __future__ import annotations

import json

import pytest

from hifigan.audio import load_audio, save_audio
from hifigan.evaluation.spectral import mel_l1
from tests.support.cli_runs import one_line, run
from tests.support.pretrained_fake import make_tiny80, register
from tests.support.signals import speechlike, with_noise_at_snr


def folders(tmp_path, rate: int) -> tuple[str, str]:
    """ref/ and gen/ at `rate`: two 0.4 s speech-like recordings, each with a copy at 15 dB SNR."""
    ref, gen = tmp_path / f"ref{rate}", tmp_path / f"gen{rate}"
    ref.mkdir()
    gen.mkdir()
    for i in range(2):
        x = speechlike(0.4, sr=rate, seed=i)
        save_audio(ref / f"c{i}.wav", x, rate)
        save_audio(gen / f"c{i}.wav", with_noise_at_snr(x, 15.0, i), rate)
    return str(ref), str(gen)


def test_evaluate_measures_with_the_checkpoint_s_mel(tmp_path, capsys, tiny_checkpoint, tiny_cfg):
    """8 kHz recordings (no preset there): -c measures with the checkpoint's config, as --config restating it does,
    and names the checkpoint in the table's first line and the report."""
    ref, gen = folders(tmp_path, 8000)
    args = ["evaluate", "--reference", ref, "--system", gen, "--metrics", "mel_l1"]
    code, out, err = run(capsys, *args, "-c", tiny_checkpoint, "--out", f"{tmp_path}/report/")
    assert code == 0, err
    assert out.startswith(f"measured at 8000 Hz with the mel of checkpoint {tiny_checkpoint}\nmetric ")
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert report["settings"]["config"] == f"checkpoint {tiny_checkpoint}"
    assert report["settings"]["mel"] == tiny_cfg.mel_kwargs(for_loss=True)
    for f in report["files"]:
        x, y = load_audio(f["reference"], 8000), load_audio(f["generated"], 8000)
        assert f["metrics"]["mel_l1"] == pytest.approx(mel_l1(x, y, tiny_cfg), rel=1e-6)


def test_evaluate_measures_with_a_pretrained_model_s_mel(tmp_path, capsys, monkeypatch):
    """--pretrained: the registered model's config (tiny-test: 8 kHz, 80 mel bins), named so."""
    tiny80 = make_tiny80(tmp_path)
    register(tmp_path, monkeypatch, tiny80)
    ref, gen = folders(tmp_path, 8000)
    code, out, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "mel_l1",
                         "--pretrained", "tiny-test", "--out", f"{tmp_path}/report/")
    assert code == 0, err
    assert out.startswith("measured at 8000 Hz with the mel of pretrained tiny-test\n")
    settings = json.loads((tmp_path / "report" / "evaluation.json").read_text())["settings"]
    assert settings["mel"] == tiny80[0].mel_kwargs(for_loss=True) and settings["mel"]["num_mels"] == 80


def test_recordings_at_another_rate_than_the_model(tmp_path, capsys, tiny_checkpoint):
    """16 kHz recordings against an 8 kHz checkpoint: one line naming each file, the checkpoint and both rates,
    nothing written; with --resample measured at the model's rate. Where no model or config is given, the rate
    without a preset asks for the model first."""
    ref, gen = folders(tmp_path, 16000)
    args = ["evaluate", "--reference", ref, "--system", gen, "--metrics", "mel_l1", "--out", f"{tmp_path}/report/"]
    code, _, err = run(capsys, *args, "-c", tiny_checkpoint)
    line = one_line(err)
    assert code == 2 and (f"{ref}/c0.wav: sample rate is 16000 Hz, checkpoint {tiny_checkpoint} is at 8000 Hz: give "
                          "the model at 16000 Hz that the audio was vocoded with, or --resample to measure at 8000 "
                          "Hz") in line, line
    assert not (tmp_path / "report").exists()
    code, out, err = run(capsys, *args, "-c", tiny_checkpoint, "--resample")
    assert code == 0 and out.startswith("measured at 8000 Hz with the mel of checkpoint "), err
    ref8, gen8 = folders(tmp_path, 8000)
    code, _, err = run(capsys, "evaluate", "--reference", ref8, "--system", gen8, "--metrics", "mel_l1")
    assert code == 2 and ("recordings at 8000 Hz, and no preset is at that rate: give the model the audio was "
                          "vocoded with (-c CKPT, --pretrained NAME) or --config, a config file at 8000 Hz") in err
