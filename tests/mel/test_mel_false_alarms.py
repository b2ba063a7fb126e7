"""No false alarm: official mels of varied signals (levels, silence, noise, tones, clipping, 1 frame to 10 min)."""

import numpy as np

from hifigan.melconv import detect
from tests.support.mel_cases import CLIPS, SR, clip, official


def _signals():
    rng = np.random.default_rng(0)
    t = np.arange(SR * 2) / SR
    pink = np.cumsum(rng.standard_normal(SR * 2)) * 1e-3
    pink -= np.convolve(pink, np.ones(64) / 64, mode="same")
    levels = (0, -10, -20, -30, -40)
    out = {f"speech{i}@{db}": clip(i) * 10 ** (db / 20) for i in range(0, len(CLIPS), 3) for db in levels}
    out |= {
        "silence": np.zeros(SR), "dither": rng.standard_normal(SR) * 3e-5, "white": rng.standard_normal(SR) * 0.3,
        "white-quiet": rng.standard_normal(SR) * 1e-3, "pink": pink / np.abs(pink).max() * 0.5,
        "tone440": 0.5 * np.sin(2 * np.pi * 440 * t), "tone-quiet": 1e-3 * np.sin(2 * np.pi * 3000 * t),
        "tone+dither": 0.1 * np.sin(2 * np.pi * 200 * t) + rng.standard_normal(t.size) * 1e-4,
        "clipped": np.clip(3 * clip(1), -1, 1), "square": np.sign(np.sin(2 * np.pi * 110 * t)) * 0.9,
        "chord": sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0, 523.3)),
        "music-like": sum(0.15 * np.sin(2 * np.pi * f * t) * (np.sin(2 * np.pi * r * t) > 0)
                          for f, r in ((220, 1.5), (330, 2.0), (880, 3.0))) + rng.standard_normal(t.size) * 1e-3,
        "one-frame": rng.standard_normal(400) * 0.1, "ten-minutes": np.tile(clip(0), int(600 * SR / clip(0).size) + 1),
    }
    return out


def test_official_mels_of_varied_signals_are_official():
    signals = _signals()
    assert len(signals) >= 50  # 9 speech clips x 5 levels + 15 others
    flagged = {}
    for name, audio in signals.items():
        verdict = detect(official(audio))
        if not verdict.official:
            flagged[name] = verdict.line()
    assert not flagged, flagged
