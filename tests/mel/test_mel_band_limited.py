"""Mels of band-limited float audio: a 22.05 kHz clip resampled to 24 or 48 kHz keeps only rounding noise above
11.025 kHz (1e-10 to 1e-8 in magnitude), a dead top band that widens the values' spread. Where that band alone
decides between a magnitude and a power convention the check says it cannot tell; it never names the wrong one
with confidence, nor calls a log10 mel official."""

from __future__ import annotations

import functools

import librosa
import numpy as np
import pytest

from hifigan.audio import load_audio
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.melconv import detect
from hifigan.melconv.model import ModelMel
from tests.support.mel_cases import CLIPS


@functools.lru_cache(maxsize=4)
def magnitude(preset: str, gain_db: float, int16: bool = False) -> np.ndarray:
    """The Slaney mel magnitude (no epsilon under the root, as ESPnet and Parallel WaveGAN) of 1.5 s of a bundled
    clip resampled in float32 to the preset's rate (`int16`: then quantised to 16 bits), with the official
    padding."""
    cfg = load_config(preset)
    audio = load_audio(CLIPS[0], cfg.sampling_rate, resample=True)[: cfg.sampling_rate * 3 // 2]
    audio = audio / np.abs(audio).max() * np.float32(10 ** (gain_db / 20))
    if int16:
        audio = (np.round(audio * 32767) / 32768).astype(np.float32)
    pad = (cfg.n_fft - cfg.hop_size) // 2
    spec = np.abs(librosa.stft(np.pad(audio, pad, mode="reflect"), n_fft=cfg.n_fft, hop_length=cfg.hop_size,
                               win_length=cfg.win_size, center=False))
    return librosa.feature.melspectrogram(S=spec, sr=cfg.sampling_rate, n_mels=cfg.num_mels, fmin=cfg.fmin,
                                          fmax=cfg.fmax, power=1.0)


def judge(preset: str, mel: np.ndarray):
    cfg = load_config(preset)
    return detect(mel.astype(np.float32), cfg.num_mels, ModelMel.of(cfg))


@pytest.mark.parametrize("preset", ["bigvgan-24k", "audiosr-48k"])
@pytest.mark.parametrize("gain_db", [0, -40])
@pytest.mark.parametrize(("name", "pair"), [
    ("log10", ("log10", "log10-power")), ("ln-floor", ("ln-floor", "ln-power")),
    ("linear-magnitude", ("linear-magnitude", "linear-power")),
])
def test_a_magnitude_mel_of_band_limited_audio_is_unknown_between_magnitude_and_power(preset, gain_db, name, pair):
    """Floored at 1e-10, log10 and log10-power (ln and ln-power) share a floor: read as power, the dead band is
    quiet content; read as magnitude, a band limit. Before: log10-power 0.90, ln-power 0.90, linear-power 0.80,
    or (log10 at 0 dB, 24 kHz) official 0.95."""
    m = magnitude(preset, gain_db)
    mel = {"log10": np.log10(np.maximum(m, 1e-10)), "ln-floor": np.log(np.maximum(m, 1e-10)),
           "linear-magnitude": m}[name]
    verdict = judge(preset, mel)
    assert verdict.convention == "unknown" and verdict.confidence < 0.5, verdict.line()
    assert set(verdict.detail.split(":")[0].split(" or ")) == set(pair), verdict.line()
    assert "band-limited" in verdict.detail and verdict.evidence["dead_bins"] >= 2


@pytest.mark.parametrize("preset", ["bigvgan-24k", "audiosr-48k"])
@pytest.mark.parametrize(("name", "forward"), [
    ("official", lambda m: np.log(np.maximum(m, 1e-5))),
    ("log10-power", lambda m: np.log10(np.maximum(m * m, 1e-10))),
    ("ln-power", lambda m: np.log(np.maximum(m * m, 1e-10))),
    ("linear-power", lambda m: m * m),
])
def test_other_conventions_of_band_limited_audio_are_still_named(preset, name, forward):
    """The dead band is read as such only where it is one: official, power and linear-power mels of the same audio
    keep their verdicts (linear-power was 'unknown' before at 24 kHz, its dead band doubling the log spread)."""
    verdict = judge(preset, forward(magnitude(preset, 0)))
    assert verdict.convention == name and verdict.confidence >= 0.5, verdict.line()


def test_16_bit_audio_fills_the_band_and_keeps_its_verdict():
    """Quantised to 16 bits after resampling, the band above 11.025 kHz holds quantisation noise: its edge falls
    about 5 nats, a spectrum's, not a dead band's (7 nats or more), so a log10 mel there is still log10."""
    verdict = judge("bigvgan-24k", np.log10(np.maximum(magnitude("bigvgan-24k", 0, int16=True), 1e-10)))
    assert verdict.convention == "log10" and 5.0 < verdict.evidence["cliff"] * np.log(10) < 7.0, verdict.line()


def test_check_mel_names_both_and_advises_no_conversion(tmp_path, capsys):
    """The reviewer's case: ESPnet-style log10 mel at bigvgan-24k's settings; check-mel advised
    --mel-convention log10-power (halving every value)."""
    path = tmp_path / "b24_log10.npy"
    np.save(path, np.log10(np.maximum(magnitude("bigvgan-24k", 0), 1e-10)).astype(np.float32))
    assert main(["check-mel", "--config", "bigvgan-24k", str(path)]) == 1
    out = capsys.readouterr().out
    assert "unknown (log10" in out and "--mel-convention" not in out, out
