"""Multi-resolution STFT loss of Parallel WaveGAN (Yamamoto et al. 2020, Eq. 3-5): spectral convergence plus
log STFT magnitude, averaged over STFT resolutions. An optional generator loss term (off in the paper's recipe).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hifigan.models.stft import Resolution, check_resolutions, min_samples, padded_stft

PWG_RESOLUTIONS: tuple[Resolution, ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
"""Parallel WaveGAN's (n_fft, hop, win) triples."""

POWER_FLOOR = 1e-7
"""Parallel WaveGAN's floor on |X|^2 (so |X| >= sqrt(1e-7) ~ 3.2e-4): keeps log|X| and its gradient finite."""


def stft_loss_min_samples(resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS) -> int:
    """The shortest audio (training segment) the loss frames at these resolutions (1025 for Parallel WaveGAN's)."""
    return max(min_samples(r, r[0] // 2) for r in resolutions)


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


class MultiResolutionSTFTLoss(nn.Module):
    """`multi_resolution_stft_loss` with its resolutions fixed (checked once); forward(y, y_hat) -> (sc, mag)."""

    def __init__(self, resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS, power_floor: float = POWER_FLOOR) -> None:
        super().__init__()
        self.resolutions = check_resolutions(resolutions)
        if isinstance(power_floor, bool) or not isinstance(power_floor, int | float) or not 0 < power_floor < math.inf:
            raise ValueError(f"power_floor must be a finite number > 0, got {power_floor!r}")
        self.power_floor = float(power_floor)

    def forward(self, y: Tensor, y_hat: Tensor) -> tuple[Tensor, Tensor]:
        return multi_resolution_stft_loss(y, y_hat, self.resolutions, self.power_floor)
