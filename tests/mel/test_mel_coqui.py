"""Coqui TTS's mels (its AudioProcessor with the Tacotron defaults: 20 log10 of the magnitude mel, ref_level_db 20,
min_level_db -100, signal_norm symmetric to [-4, 4], clip_norm) read as minmax4, and convert to the official mel
with the statistics its levels give (docs/sample-rates.md), exactly above its clip."""

import librosa
import numpy as np
import pytest

from hifigan.audio import load_audio
from hifigan.melconv import detect, to_official
from hifigan.melconv.stats import load_stats
from tests.support.files import CORPUS

CLIP = CORPUS / "LJ001-0002.wav"
REF_LEVEL_DB, MIN_LEVEL_DB = 20.0, -100.0


def coqui_mel(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AudioProcessor.melspectrogram written out (librosa's centred STFT, Slaney basis, fmax 8000): the normalised
    mel and the magnitude mel it came from."""
    spec = np.abs(librosa.stft(audio, n_fft=1024, hop_length=256, win_length=1024, window="hann", pad_mode="reflect"))
    magnitude = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000) @ spec
    db = 20 * np.log10(np.maximum(1e-5, magnitude)) - REF_LEVEL_DB
    return np.clip(8 * (db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - 4, -4, 4), magnitude


@pytest.mark.parametrize("gain", [1.0, 0.25])
def test_coqui_mels_read_as_minmax4_and_convert_with_its_levels(gain, tmp_path):
    """At 0.25 (-12 dB) the clip at -4 was read as a log10 floor of 1e-4 (convert: --mel-convention log10, which
    gives another mel); at the recording's level as unknown."""
    x, magnitude = coqui_mel(gain * load_audio(CLIP, 22050).astype(np.float64))
    verdict = detect(x.astype(np.float32))
    assert verdict.convention == "minmax4", verdict.line()
    assert verdict.option == "--mel-convention minmax4 --mel-stats FILE"
    np.savez(tmp_path / "coqui.npz", min=MIN_LEVEL_DB + REF_LEVEL_DB, max=REF_LEVEL_DB, convention="db")
    official = to_official(x.astype(np.float32), "minmax4", load_stats(tmp_path / "coqui.npz", 80))
    kept = 20 * np.log10(np.maximum(magnitude, 1e-30)) - REF_LEVEL_DB > MIN_LEVEL_DB + 1e-3  # above the clip
    assert 0.5 < kept.mean() < 1
    np.testing.assert_allclose(official[kept], np.log(np.maximum(magnitude, 1e-5))[kept], rtol=0, atol=1e-5)
