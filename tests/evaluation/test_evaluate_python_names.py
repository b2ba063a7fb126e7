"""Evaluation called from Python (`evaluate_pairs`, `compute_metrics`, `pair_by_stem`, the input checks) names the
caller's own arguments in its messages (`resample=True`, `max_shift=...`), never `hifigan evaluate`'s options; the
commands pass cli=True and keep theirs (test_evaluate_errors and the others check that wording)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from hifigan import evaluate_pairs, load_config
from hifigan.errors import HifiganError

FLAG = re.compile(r"--[a-z]")
TONE = (0.1 * np.sin(np.arange(2000) / 7)).astype(np.float32)
CONFIG = load_config("v1")  # 22050 Hz, hop 256


def _python_words(message: str, *names: str) -> None:
    assert not FLAG.search(message), message
    for name in names:
        assert name in message, message


def test_a_file_at_another_rate_names_resample(tmp_path):
    ref, gen = tmp_path / "a.wav", tmp_path / "a16k.wav"
    sf.write(ref, TONE, 22050)
    sf.write(gen, TONE, 16000)
    with pytest.raises(HifiganError) as e:
        evaluate_pairs([("a", ref, gen)], CONFIG, metrics=["snr"], progress=False)
    assert str(e.value) == f"{gen}: sample rate is 16000 Hz, expected 22050 Hz (use resample=True)"
