"""The mel filterbank every front-end here uses: librosa's default, Slaney-scale and Slaney-normalised (each
triangle of unit area in Hz), as the official code, Parallel WaveGAN, ESPnet and VITS build it. Without torch, so
that check-mel can read a model's filterbank without importing it."""

from __future__ import annotations

import numpy as np


def slaney_basis(sampling_rate: int, n_fft: int, num_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """[num_mels, n_fft // 2 + 1] float32 filterbank (fmax None: sampling_rate / 2). librosa.filters' import costs
    about a second: it is imported here, when first needed."""
    import librosa.filters

    return librosa.filters.mel(sr=sampling_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin, fmax=fmax).astype(np.float32)
