"""The short-time Fourier transform shared by the spectrogram discriminator (MRD) and the multi-resolution STFT loss.

One framing for both: reflect-pad the audio, then cut frames with no further padding (torch.stft center=False).
The reflect padding is `hifigan.padding.reflect_pad`, whose backward pass is deterministic on CUDA.
"""

from __future__ import annotations

from numbers import Integral

import torch

from hifigan.padding import reflect_pad

Resolution = tuple[int, int, int]
"""(n_fft, hop, win): FFT size, frame shift and window length in samples (win <= n_fft)."""

WINDOWS = ("hann", "rectangular")


def check_resolution(resolution: Resolution, window: str = "hann") -> Resolution:
    """The resolution as a tuple of three ints, or a ValueError saying what is wrong with it."""
    if not isinstance(resolution, list | tuple) or len(resolution) != 3:
        raise ValueError(f"an STFT resolution is (n_fft, hop, win), got {resolution!r}")
    if any(isinstance(v, bool) or not isinstance(v, Integral) for v in resolution):
        raise ValueError(f"STFT resolution (n_fft, hop, win) = {resolution!r} must be integers")
    n_fft, hop, win = (int(v) for v in resolution)
    if not (n_fft >= 2 and hop >= 1 and 1 <= win <= n_fft):
        raise ValueError(f"STFT resolution (n_fft, hop, win) = {resolution!r} needs n_fft >= 2, hop >= 1, "
                         f"1 <= win <= n_fft")
    if window not in WINDOWS:
        raise ValueError(f"unknown STFT window {window!r}; expected one of {', '.join(WINDOWS)}")
    return n_fft, hop, win


def check_resolutions(resolutions: tuple[Resolution, ...], window: str = "hann") -> tuple[Resolution, ...]:
    """A non-empty list of resolutions, each checked by `check_resolution`, as a tuple of tuples."""
    if not isinstance(resolutions, list | tuple) or not resolutions:
        raise ValueError(f"resolutions must be a non-empty list of (n_fft, hop, win), got {resolutions!r}")
    return tuple(check_resolution(r, window) for r in resolutions)


def stft_window(kind: str, win: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """[win]: the periodic Hann window (torch.hann_window's default) or ones."""
    if kind == "hann":
        return torch.hann_window(win, periodic=True, dtype=dtype, device=device)
    return torch.ones(win, dtype=dtype, device=device)


def min_samples(resolution: Resolution, pad: int) -> int:
    """The shortest audio `padded_stft` frames at `resolution` with `pad` reflected samples per side."""
    return max(pad + 1, resolution[0] - 2 * pad)


def padded_stft(x: torch.Tensor, resolution: Resolution, pad: int, window: str = "hann") -> torch.Tensor:
    """[B, T] audio -> complex [B, n_fft // 2 + 1, frames], frames = 1 + (T + 2 * pad - n_fft) // hop.

    Frame i covers samples [i * hop - pad, i * hop - pad + n_fft) of the audio reflect-padded by `pad` on each side;
    the win-sample window sits in the middle of the frame, (n_fft - win) // 2 zeros on its left (torch.stft's rule).
    Runs with autocast off: float64 input stays float64, anything else (bf16, fp16) is computed in float32.
    """
    n_fft, hop, win = resolution
    length = x.shape[-1]
    if length < min_samples(resolution, pad):
        raise ValueError(f"a {n_fft}-point STFT (hop {hop}, window {win}) reflect-padded by {pad} samples per side "
                         f"needs at least {min_samples(resolution, pad)} samples; got {length}")
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    with torch.autocast(x.device.type, enabled=False):
        x = reflect_pad(x.to(dtype), pad, pad)
        return torch.stft(x, n_fft, hop_length=hop, win_length=win, window=stft_window(window, win, dtype, x.device),
                          center=False, normalized=False, onesided=True, return_complex=True)
