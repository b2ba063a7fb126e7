"""The PNG of `hifigan evaluate --out`: its example spectrograms are of the pair as the metrics scored it."""

from __future__ import annotations

import numpy as np

from hifigan.audio import load_audio, save_audio
from hifigan.config import load_config
from hifigan.evaluation.evaluate import evaluate_pairs
from hifigan.evaluation.output import example_pair
from tests.support.signals import SR, speechlike

CONFIG = load_config("v1")


def test_the_example_is_drawn_aligned_as_it_was_scored(tmp_path):
    """Generated audio 2 samples late, scored with max_shift=3: the example drawn is the aligned pair, the same
    samples on both sides (16-bit in, 16-bit out), where the unaligned pair differs by the delay."""
    save_audio(tmp_path / "ref.wav", speechlike(0.3), SR)
    x = load_audio(tmp_path / "ref.wav", SR)
    save_audio(tmp_path / "late.wav", np.concatenate([[0.0, 0.0], x[:-2]]), SR)
    report = evaluate_pairs([("a", tmp_path / "ref.wav", tmp_path / "late.wav")], CONFIG, tmp_path / "r",
                            metrics=["mel_l1", "snr"], max_shift=3, progress=False)
    assert report.files[0].shift_samples == 2 and (tmp_path / "r.png").is_file()
    stem, ref, gen = example_pair(report, CONFIG, cli=False)
    assert stem == "a" and len(ref) == len(gen) == len(x) - 2
    np.testing.assert_array_equal(ref, x[:-2])
    np.testing.assert_array_equal(gen, ref)
