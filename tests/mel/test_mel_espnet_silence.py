"""Mels of digital silence from front-ends with an epsilon on the power spectrum, computed here as those projects
compute them (librosa and numpy): ESPnet2's LogMelFbank (|X| = sqrt(max(|X|^2, 1e-10)), then log10 of the mel
clamped at 1e-10) and VITS's mel_processing (sqrt(|X|^2 + 1e-6), then ln of the mel clamped at 1e-5). Silence then
lies on a level per bin (1e-5 or 1e-3 times each filterbank row's sum), on no round floor; the model whose
convention they are in must still take them as its own."""

import librosa
import numpy as np
import pytest

from hifigan.audio import load_audio
from hifigan.cli import main
from hifigan.config import config_from_dict, load_config
from hifigan.melconv import ModelMel, detect
from hifigan.melconv.vocode_input import MelInput, check_vocode_mel
from tests.support.files import CORPUS

CLIP = CORPUS / "LJ001-0002.wav"


def _padded_speech(rate: int) -> np.ndarray:
    """One second of the clip at `rate` with half a second of digital silence on each side."""
    speech = load_audio(CLIP, rate, resample=True)[:rate]
    silence = np.zeros(rate // 2, np.float32)
    return np.concatenate([silence, speech, silence])


def _espnet2_log10_mel(audio: np.ndarray) -> np.ndarray:
    """ESPnet2's LogMelFbank with pwg-24k's settings (centred reflect-padded frames, a Hann window of 1200 in 2048),
    [80, frames]."""
    spec = librosa.stft(audio, n_fft=2048, hop_length=300, win_length=1200, window="hann", pad_mode="reflect")
    amplitude = np.sqrt(np.maximum(spec.real**2 + spec.imag**2, 1e-10)).astype(np.float32)
    basis = librosa.filters.mel(sr=24000, n_fft=2048, n_mels=80, fmin=80, fmax=7600, htk=False)
    return np.log10(np.maximum(basis @ amplitude, 1e-10)).astype(np.float32)


@pytest.fixture(scope="module")
def espnet2_mel() -> np.ndarray:
    return _espnet2_log10_mel(_padded_speech(24000))


def test_an_espnet2_log10_mel_with_silence_is_the_log10_models_own(espnet2_mel, tmp_path, capsys):
    basis = librosa.filters.mel(sr=24000, n_fft=2048, n_mels=80, fmin=80, fmax=7600)
    silence = np.log10(1e-5 * basis.sum(axis=1))
    assert np.allclose(espnet2_mel[:, :30], silence[:, None], atol=1e-5)  # the case: silence on a per-bin level
    assert espnet2_mel.min() == pytest.approx(-6.0749, abs=1e-4)  # above the floor of -10, no round power of ten
    model = ModelMel.of(load_config("pwg-24k"))
    verdict = detect(espnet2_mel, 80, model)
    assert verdict.matches and verdict.convention == "log10", verdict.line()
    assert verdict.evidence.get("silence_eps") == 1e-10
    path = tmp_path / "esp.npy"
    np.save(path, espnet2_mel)
    check_vocode_mel(path, model, MelInput(strict=True))  # vocode --strict-mel: no refusal
    assert main(["check-mel", "--config", "pwg-24k", str(path)]) == 0
    assert "fits the model's mel" in capsys.readouterr().out


def test_the_silence_level_is_recognised_only_in_the_models_own_scale(espnet2_mel):
    """Read in natural log (a model of pwg-24k's settings but mel_convention ln-floor), the log10 mel's silence no
    longer follows the filterbank (its rows' differences are scaled by 1 / ln 10): not that model's own mel."""
    config = load_config("pwg-24k").to_dict() | {"mel_convention": "ln-floor"}
    verdict = detect(espnet2_mel, 80, ModelMel.of(config_from_dict(config)))
    assert not verdict.matches and "silence_eps" not in verdict.evidence, verdict.line()


def test_a_vits_mel_with_silence_is_the_official_models_own():
    audio = _padded_speech(22050)
    padded = np.pad(audio, (384, 384), mode="reflect")
    spec = librosa.stft(padded, n_fft=1024, hop_length=256, window="hann", center=False)
    magnitude = np.sqrt(spec.real**2 + spec.imag**2 + 1e-6).astype(np.float32)
    basis = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000)
    mel = np.log(np.maximum(basis @ magnitude, 1e-5)).astype(np.float32)
    assert -10.1 < mel.min() < -9.9  # above the official floor of ln(1e-5) = -11.51
    verdict = detect(mel, 80, ModelMel.of(load_config("v1")))
    assert verdict.matches and verdict.convention == "official", verdict.line()
    assert verdict.evidence.get("silence_eps") == 1e-6


def test_silent_frames_in_different_blocks_are_counted_together():
    """The check runs BLOCK_FRAMES frames at a time (its memory a block's, not an audiobook mel's): one silent frame
    at each end of a longer mel still makes the MIN_FRAMES = 2 it needs, as in one block."""
    from hifigan.melconv.silence import BLOCK_FRAMES, MIN_FRAMES, silence_epsilon

    row_sums = np.random.default_rng(0).uniform(0.01, 0.03, 80)
    silent = np.log(np.sqrt(1e-10) * row_sums)  # ln M of digital silence under e = 1e-10, above the 1e-10 floor
    mel = np.random.default_rng(1).uniform(-9, -2, (80, BLOCK_FRAMES + 500))
    mel[:, 0] = mel[:, -1] = silent
    assert MIN_FRAMES == 2 and silence_epsilon(mel, 1.0, row_sums, np.log(1e-10)) == pytest.approx(1e-10)
    assert silence_epsilon(mel[:, :-1], 1.0, row_sums, np.log(1e-10)) is None  # one silent frame is not enough
    assert silence_epsilon(mel / np.log(10), np.log(10), row_sums, np.log(1e-10)) == pytest.approx(1e-10)  # log10


def test_only_frames_on_the_whole_filterbank_level_of_a_round_epsilon_are_silence():
    """Silent frames must follow every row's sum (not match it in one bin), sit at a round power of ten (another
    front-end's filterbank, with half the FFT size and so half each row's sum, puts its silence ln 2 lower: no round
    epsilon), and the quietest such frames decide (a one-sample click in silence has a flat spectrum: the same shape,
    louder)."""
    from hifigan.melconv.silence import silence_epsilon

    rng = np.random.default_rng(0)
    row_sums = rng.uniform(0.01, 0.03, 80)
    silent = np.log(np.sqrt(1e-10) * row_sums)
    floor = np.log(1e-10)

    def mel_with(*frames: np.ndarray) -> np.ndarray:
        mel = rng.uniform(-9, -2, (80, 40))
        for i, frame in enumerate(frames):
            mel[:, 10 + 3 * i] = frame
        return mel

    assert silence_epsilon(mel_with(silent, silent), 1.0, row_sums, floor) == pytest.approx(1e-10)
    click = np.log(0.37 * row_sums)
    assert silence_epsilon(mel_with(silent, click, silent), 1.0, row_sums, floor) == pytest.approx(1e-10)
    halved = silent - np.log(2.0)
    assert silence_epsilon(mel_with(halved, halved), 1.0, row_sums, floor) is None
    one_bin = silent + np.r_[0.0, rng.uniform(0.5, 2.0, 79)]  # on the level in bin 0 only
    assert silence_epsilon(mel_with(one_bin, one_bin), 1.0, row_sums, floor) is None
