"""Fixtures of the command tests: a good input of each kind, to stand beside a bad one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.cli_runs import BINS, SR, tone, wav


@pytest.fixture
def good_wav(tmp_path) -> Path:
    """Half a second of a tone at the tiny config's rate."""
    return wav(tmp_path / "good.wav", tone(SR // 2))


@pytest.fixture
def good_mel(tmp_path) -> Path:
    """A [BINS, 20] float32 log-mel of noise around -5."""
    path = tmp_path / "good.npy"
    np.save(path, np.random.default_rng(0).normal(-5, 1, (BINS, 20)).astype(np.float32))
    return path
