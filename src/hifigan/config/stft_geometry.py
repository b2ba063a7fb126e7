"""What a mel front-end's STFT and filterbank may be: sizes >= 1, a window that fits its frame, hops that leave no
sample unseen, a band fmin < fmax <= sampling_rate / 2, and no mel filter empty (hifigan.config.mel_filters). One check,
shared by the config (at load) and the front-end (hifigan.mel) itself; torch-free, so a config loads without torch."""

from __future__ import annotations

from typing import Any

from hifigan.config.mel_filters import empty_filters_problem
from hifigan.config.values import integer, number

OFFICIAL_EPS = 1e-9  # |X| = sqrt(re^2 + im^2 + 1e-9) in the official code: its STFT magnitude's epsilon
FRAMINGS = ("official", "center")  # reflect-pad (n_fft - hop) // 2: T // hop frames; n_fft // 2: 1 + T // hop


def check_stft_geometry(n_fft: Any, num_mels: Any, sampling_rate: Any, hop_size: Any, win_size: Any, fmin: Any,
                        fmax: Any) -> None:
    """Raise ValueError naming the first key (the config's name for it) whose value cannot make a mel."""
    sizes = {"sampling_rate": sampling_rate, "n_fft": n_fft, "win_size": win_size, "hop_size": hop_size,
             "num_mels": num_mels}
    for key, value in sizes.items():
        integer(key, value, 1)
    if win_size > n_fft:
        raise ValueError(f"win_size ({win_size}) must be at most n_fft ({n_fft}): the window fills one STFT frame")
    if hop_size > win_size:
        raise ValueError(f"hop_size ({hop_size}) must be at most win_size ({win_size}): a longer hop leaves samples "
                         f"between windows that no frame sees")
    nyquist = sampling_rate / 2
    fmin = number("fmin", fmin, 0, nyquist, high_open=True)
    if fmax is not None:
        number("fmax", fmax, fmin, nyquist, low_open=True)  # None: up to sampling_rate / 2 (librosa's default)
    problem = empty_filters_problem(sampling_rate, n_fft, num_mels, fmin, fmax)
    if problem:
        raise ValueError(problem)


def check_framing(framing: Any, key: str = "mel_framing") -> str:
    """Raise ValueError naming `key` unless `framing` is one of FRAMINGS (how the signal is padded into frames)."""
    if not isinstance(framing, str) or framing not in FRAMINGS:
        raise ValueError(f"{key} {framing!r} is unknown; choose from {', '.join(FRAMINGS)}")
    return framing
