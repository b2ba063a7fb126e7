"""Spectral distances between a recording and generated audio: mel L1, MR-STFT, log-spectral distance, MCD."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from hifigan.arrays.shared import shared_tensor
from hifigan.config import HifiganConfig
from hifigan.evaluation.signals import Signal, as_numpy
from hifigan.evaluation.undefined import SILENT_REFERENCE, Undefined
from hifigan.mel import mel_spectrogram
from hifigan.models.stft import PWG_RESOLUTIONS, Resolution, multi_resolution_stft_loss, stft_magnitude

MCD_COEFFICIENTS = 24  # c1..c24; c0 (overall level) is excluded
LSD_FLOOR = 1e-10  # floor on |STFT|^2 in the log-spectral distance (-100 dB)


def _tensor(y: Signal, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A signal as a tensor of `dtype`; a numpy array's memory shared where the dtype is its own (a read-only array
    too, without torch's warning)."""
    return torch.as_tensor(shared_tensor(y) if isinstance(y, np.ndarray) else y, dtype=dtype)


def _as_batch(y: Signal) -> torch.Tensor:
    y = _tensor(y)
    return y.unsqueeze(0) if y.dim() == 1 else y


def loss_log_mel(y: Signal, config: HifiganConfig) -> torch.Tensor:
    """The official natural-log mel with the loss settings (fmax_for_loss), [B, num_mels, frames]."""
    return mel_spectrogram(_as_batch(y), **config.mel_kwargs(for_loss=True))


def mel_l1(reference: Signal, generated: Signal, config: HifiganConfig) -> float:
    """The paper's validation error: mean |log-mel(x) - log-mel(G(s))| with the loss mel (fmax_for_loss).

    Both signals are trimmed to the shorter length (they differ by less than one hop in copy synthesis).
    """
    ref, gen = _as_batch(reference), _as_batch(generated)
    n = min(ref.shape[-1], gen.shape[-1])
    return torch.nn.functional.l1_loss(loss_log_mel(gen[..., :n], config), loss_log_mel(ref[..., :n], config)).item()


def mrstft_distance(
    reference: Signal, generated: Signal, resolutions: Iterable[Resolution] = PWG_RESOLUTIONS
) -> float:
    """Multi-resolution STFT distance: the auxiliary loss of Parallel WaveGAN (Yamamoto et al., ICASSP 2020), as the
    training loss computes it (hifigan.models.stft.multi_resolution_stft_loss).

    Per resolution: spectral convergence ||  |Y| - |X| ||_F / || |Y| ||_F (Y the reference) plus the mean
    |log|Y| - log|X||; magnitudes are sqrt(max(power, 1e-7)) of a Hann STFT with centred frames, as in
    Parallel WaveGAN's loss. Returns mean(SC) + mean(log-mag L1) over the resolutions (0 when identical).
    Undefined (NaN) for a silent reference: the spectral convergence would divide by its floor.
    """
    if not as_numpy(reference).any():
        return Undefined(SILENT_REFERENCE)
    ref, gen = _tensor(as_numpy(reference)), _tensor(as_numpy(generated))
    sc, mag = multi_resolution_stft_loss(ref, gen, tuple(resolutions))
    return float(sc) + float(mag)


def log_spectral_distance(reference: Signal, generated: Signal, n_fft: int, hop: int, win: int) -> float:
    """Log-spectral distance in dB (Gray & Markel, IEEE TASSP 1976).

    mean over frames of sqrt(mean over bins of (10 log10 P_ref - 10 log10 P_gen)^2), P = |STFT|^2 (Hann,
    the model's n_fft/hop/win, centred frames) floored at 1e-10 (-100 dB), so digital silence in both is 0.
    Bandwidth-extension code (NU-Wave's) takes log10 P without the factor 10: its LSD is a tenth of this one.
    """
    ref, gen = _tensor(as_numpy(reference), torch.float64), _tensor(as_numpy(generated), torch.float64)
    db_ref = 20 * torch.log10(stft_magnitude(ref, (n_fft, hop, win), LSD_FLOOR))
    db_gen = 20 * torch.log10(stft_magnitude(gen, (n_fft, hop, win), LSD_FLOOR))
    return torch.sqrt(torch.mean((db_ref - db_gen).square(), dim=0)).mean().item()


def mel_cepstrum(log_mel: np.ndarray, num_coefficients: int = MCD_COEFFICIENTS) -> np.ndarray:
    """Mel-cepstrum c_1..c_D of natural-log mel frames [num_mels, T] -> [D, T].

    With the N band centres read as equally spaced points w_n = pi (2n+1) / (2N) of a mel-warped frequency
    axis, the cepstrum in the usual convention log|H(w)| = c_0 + 2 sum_d c_d cos(d w) is c_d = DCT-II(x)_d / (2N)
    (scipy's unnormalised DCT-II); this is the DCT analogue of a warped cepstrum, read from the official mel.
    """
    from scipy.fft import dct

    n = log_mel.shape[0]
    coefficients = dct(np.asarray(log_mel, dtype=np.float64), type=2, axis=0) / (2 * n)
    return coefficients[1:num_coefficients + 1]


def mcd_coefficients(config: HifiganConfig, num_coefficients: int = MCD_COEFFICIENTS) -> int:
    """How many coefficients (c_1..c_D) MCD compares at this config: `num_coefficients`, or N - 1 for a mel of
    N <= num_coefficients bands (a DCT of N values has no c_N)."""
    return min(num_coefficients, config.num_mels - 1)


def mel_cepstral_distortion(
    reference: Signal, generated: Signal, config: HifiganConfig, num_coefficients: int = MCD_COEFFICIENTS
) -> float:
    """Mel-cepstral distortion in dB (Kubichek, IEEE PACRIM 1993):
    mean over frames of (10 / ln 10) sqrt(2 sum_{d=1..24} (c_d - c'_d)^2).

    The cepstra are `mel_cepstrum` (c_1..c_24, c_0 excluded; to c_{N-1} for N < 25 mel bands: `mcd_coefficients`)
    of the official loss log-mel of each signal.
    Frames are paired one-to-one in time (copy synthesis is time-aligned; no DTW).
    """
    ref, gen = as_numpy(reference), as_numpy(generated)
    n = min(len(ref), len(gen))
    return log_mel_cepstral_distortion(loss_log_mel(ref[:n], config)[0].numpy(),
                                       loss_log_mel(gen[:n], config)[0].numpy(),
                                       mcd_coefficients(config, num_coefficients))


def log_mel_cepstral_distortion(reference: np.ndarray, generated: np.ndarray, num_coefficients: int) -> float:
    """MCD in dB of two natural-log mel spectrograms [num_mels, T] paired frame by frame (see
    mel_cepstral_distortion)."""
    c_ref, c_gen = mel_cepstrum(reference, num_coefficients), mel_cepstrum(generated, num_coefficients)
    per_frame = (10.0 / np.log(10.0)) * np.sqrt(2.0 * np.sum((c_ref - c_gen) ** 2, axis=0))
    return float(per_frame.mean())

