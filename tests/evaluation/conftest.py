"""Fixtures of the evaluation tests that more than one file uses."""

from __future__ import annotations

import pytest

from hifigan.audio import save_audio
from tests.support.signals import SR, speechlike, with_noise_at_snr


@pytest.fixture
def folders(tmp_path):
    """ref/ and gen/ with two 1.2 s pairs; gen = ref + white noise at 20 dB SNR (before int16 rounding)."""
    ref_dir, gen_dir = tmp_path / "ref", tmp_path / "gen"
    ref_dir.mkdir()
    gen_dir.mkdir()
    for i, stem in enumerate(["a", "b"]):
        x = speechlike(1.2, seed=i)
        save_audio(ref_dir / f"{stem}.wav", x, SR)
        save_audio(gen_dir / f"{stem}.wav", with_noise_at_snr(x, 20.0, seed=i), SR)
    (gen_dir / "notes.txt").write_text("not audio: ignored")
    return ref_dir, gen_dir
