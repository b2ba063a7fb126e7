"""Independent expectations: values worked out by hand or known from first principles, for steps other tests
only compare with our own code (the int16 output, resampling)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import load_audio, save_audio, to_int16

# float sample -> the int16 the official inference writes: x * 32768 truncated toward zero, clipped at full scale
INT16_BY_HAND = [
    (0.0, 0), (0.5, 16384), (-0.5, -16384), (0.999, 32735),  # 0.999 * 32768 = 32735.232
    (100.7 / 32768, 100), (-100.7 / 32768, -100),  # truncated toward zero: not 101 (rounding), not -101 (floor)
    (0.4 / 32768, 0), (-0.4 / 32768, 0), (32767.9 / 32768, 32767),
    (1.0, 32767), (1.7, 32767), (-1.0, -32768), (-1.3, -32768),  # clipped: 32768 would wrap to -32768
]


def test_int16_output_truncates_toward_zero_and_clips(tmp_path):
    floats = np.array([x for x, _ in INT16_BY_HAND], dtype=np.float32)
    expected = np.array([v for _, v in INT16_BY_HAND], dtype=np.int16)
    assert to_int16(floats).dtype == np.int16
    np.testing.assert_array_equal(to_int16(floats), expected)
    save_audio(tmp_path / "x.wav", floats, 8000)
    written, rate = sf.read(tmp_path / "x.wav", dtype="int16")
    assert rate == 8000 and sf.info(tmp_path / "x.wav").subtype == "PCM_16"
    np.testing.assert_array_equal(written, expected)


@pytest.mark.parametrize(("source", "target"), [(16000, 8000), (8000, 22050)])
def test_resampled_audio_is_the_signal_sampled_at_the_new_rate(tmp_path, source, target):
    """A 440 Hz tone written at one rate and read with --resample at another is the same tone sampled at the
    other rate: within 1e-4 (int16 steps and soxr's passband ripple) away from the ends; one sample of delay
    would be off by 0.17, linear interpolation by 2e-3."""
    seconds, amplitude = 1.0, 0.5
    t = np.arange(int(seconds * source)) / source
    sf.write(tmp_path / "tone.wav", np.round(amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16),
             source, subtype="PCM_16")
    audio = load_audio(tmp_path / "tone.wav", target, resample=True)
    assert audio.dtype == np.float32 and audio.shape == (int(seconds * target),)
    expected = amplitude * 32767 / 32768 * np.sin(2 * np.pi * 440 * np.arange(audio.size) / target)
    edge = target // 100  # the filter's start-up and run-out (10 ms)
    assert np.abs(audio - expected)[edge:-edge].max() < 1e-4
