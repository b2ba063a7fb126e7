"""The short-time Fourier transform shared by the spectrogram discriminator (MRD), the multi-resolution STFT loss and
the MR-STFT and log-spectral metrics, and the multi-resolution STFT distance of Parallel WaveGAN (Yamamoto et al.
2020, Eq. 3-5: spectral convergence plus log STFT magnitude, averaged over resolutions) that the loss and the metric
share, with its resolutions and magnitude floor.

One framing for all: reflect-pad the audio, then cut frames with no further padding (torch.stft center=False).
The reflect padding is `hifigan.arrays.padding.reflect_pad`, whose backward pass is deterministic on CUDA.
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import Tensor

from hifigan.arrays.padding import padded_min_samples, reflect_pad

Resolution = tuple[int, int, int]
"""(n_fft, hop, win): FFT size, frame shift and window length in samples (win <= n_fft)."""

PWG_RESOLUTIONS: tuple[Resolution, ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
"""Parallel WaveGAN's (n_fft, hop, win) triples, which UnivNet's MRD took in the same order: the defaults of the STFT
loss, the MR-STFT metric and the MRD (models.mrd.UNIVNET_RESOLUTIONS)."""

POWER_FLOOR = 1e-7
"""Parallel WaveGAN's floor on |X|^2 (so |X| >= sqrt(1e-7) ~ 3.2e-4): keeps log|X| and its gradient finite."""

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
    return padded_min_samples(resolution[0], pad)


def stft_loss_min_samples(resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS) -> int:
    """The shortest audio (training segment) the MR-STFT loss frames at these resolutions, each padded by n_fft // 2
    as stft_magnitude pads (1025 for Parallel WaveGAN's)."""
    return max(min_samples(r, r[0] // 2) for r in resolutions)


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


def stft_magnitude(x: Tensor, resolution: Resolution, power_floor: float = POWER_FLOOR) -> Tensor:
    """[B, T] -> [B, n_fft // 2 + 1, 1 + T // hop]: sqrt(max(|X|^2, power_floor)), Hann window.

    Framing is torch.stft's center=True, pad_mode="reflect" (n_fft // 2 reflected samples per side), as Parallel
    WaveGAN's; the audio needs more than n_fft // 2 samples. float32 (float64 for float64 input).
    """
    n_fft = resolution[0]
    spec = padded_stft(x, resolution, n_fft // 2, "hann")
    return torch.sqrt(torch.clamp(spec.real.square() + spec.imag.square(), min=power_floor))


def spectral_convergence(mag_real: Tensor, mag_generated: Tensor) -> Tensor:
    """|| |Y| - |Y_hat| ||_F / || |Y| ||_F, the Frobenius norms taken over the whole batch (not per utterance)."""
    return torch.linalg.vector_norm(mag_real - mag_generated) / torch.linalg.vector_norm(mag_real)


def log_magnitude_loss(mag_real: Tensor, mag_generated: Tensor) -> Tensor:
    """mean |log|Y| - log|Y_hat||, over batch, bins and frames."""
    return F.l1_loss(torch.log(mag_generated), torch.log(mag_real))


def multi_resolution_stft_loss(
    y: Tensor, y_hat: Tensor, resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS, power_floor: float = POWER_FLOOR
) -> tuple[Tensor, Tensor]:
    """(spectral convergence, log STFT magnitude), each the mean over `resolutions`; the loss term is their sum.

    y (real) and y_hat (generated): [B, 1, T] or [B, T], the same shape. y is the target: no gradient flows to it.
    Both results are 0-dim, float32 (float64 for float64 input), also under autocast.
    """
    if y.shape != y_hat.shape:
        raise ValueError(f"the STFT loss compares audio of one shape; got {tuple(y.shape)} and {tuple(y_hat.shape)}")
    if not resolutions:
        raise ValueError("the STFT loss needs at least one resolution")
    y = y.detach().reshape(-1, y.shape[-1])
    y_hat = y_hat.reshape(-1, y_hat.shape[-1])
    sc, mag = [], []
    for resolution in resolutions:
        real = stft_magnitude(y, resolution, power_floor)
        generated = stft_magnitude(y_hat, resolution, power_floor)
        sc.append(spectral_convergence(real, generated))
        mag.append(log_magnitude_loss(real, generated))
    return torch.stack(sc).mean(), torch.stack(mag).mean()
