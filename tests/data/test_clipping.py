"""Clipping is a flat top at full scale, measured on the samples as stored: a float file louder than 1.0 is not
clipped, a float file clipped at 1.0 is, and resampling does not hide a clipped file."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.clip_scan import scan_clips
from hifigan.data.scan_row import clipped_share
from tests.support.tiny import tiny_config

CFG = tiny_config()
STEP = 1 / 32768


@pytest.mark.parametrize(("samples", "share"), [
    # a flat top of three at the peak counts; the same peak alone (twice, apart) does not
    ([[0.0], [1.0], [1.0], [1.0], [0.1], [-1.0], [0.2], [1.0]], 3 / 8),
    # a frame counts when either channel is on a flat top at the file's peak
    ([[1.2, 0.0], [1.2, -1.2], [0.1, -1.2], [0.0, 0.3]], 3 / 4),
    # int16 clips at 32767 and -32768: both are the peak
    ([[-1.0], [32767 * STEP], [0.0]], 2 / 3),
    # 3 steps below the peak is not on it
    ([[1.0], [1.0 - 3 * STEP], [0.0], [1.0 - 3 * STEP]], 0.0),
    # a flat top below full scale (a quiet int16 sine rounds to one) is not clipping
    ([[0.5], [0.5], [0.5], [0.0]], 0.0),
    ([[1.0]], 0.0),
])
def test_the_clipped_share_counts_frames_on_a_plateau_at_the_peak(samples, share):
    assert clipped_share(np.array(samples, dtype=np.float64)) == share


def speech_like(n: int, rate: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    x = np.sin(2 * np.pi * 170 * t) + 0.5 * np.sin(2 * np.pi * 530 * t + 1.0) + 0.05 * rng.standard_normal(n)
    return x / np.abs(x).max()


def flagged(tmp_path, files: dict[str, tuple[np.ndarray, int, str]], resample: bool = False) -> list[str]:
    paths = []
    for name, (audio, rate, subtype) in files.items():
        sf.write(tmp_path / name, audio, rate, subtype=subtype)
        paths.append(tmp_path / name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = scan_clips(paths, CFG, resample=resample, cli=True)
    named = [p.name for p in report.clipping]
    said = "1 file clips" if len(named) == 1 else f"{len(named)} files clip"
    assert any(f"{said} (kept)" in str(w.message) for w in caught) == bool(named)
    return named


def test_float_files_above_one_are_not_clipped_and_float_files_clipped_at_one_are(tmp_path):
    rate, n = CFG.sampling_rate, CFG.sampling_rate // 2
    x = speech_like(n, rate)
    files = {
        "loud_float.wav": (1.3 * x, rate, "FLOAT"),  # 30% of its samples above 1.0 would not be, as float
        "clipped_float.wav": (np.clip(1.5 * x, -1.0, 1.0), rate, "FLOAT"),
        "clipped_int.wav": (np.clip(1.5 * x, -1.0, 32767 * STEP), rate, "PCM_16"),
        "clean.wav": (0.9 * x, rate, "PCM_16"),
    }
    assert sorted(flagged(tmp_path, files)) == ["clipped_float.wav", "clipped_int.wav"]


def test_a_clipped_file_is_found_before_resampling_rounds_its_flat_tops(tmp_path):
    rate = 2 * CFG.sampling_rate
    x = speech_like(rate // 2, rate, seed=1)
    files = {"clipped.wav": (np.clip(1.5 * x, -1, 32767 * STEP), rate, "PCM_16"),
             "clean.wav": (0.99 * x, rate, "PCM_16")}
    assert flagged(tmp_path, files, resample=True) == ["clipped.wav"]
