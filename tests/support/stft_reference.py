"""A float64 numpy STFT and multi-resolution STFT loss, written from the definitions, to check ours against."""

from __future__ import annotations

import numpy as np


def numpy_stft(x: np.ndarray, n_fft: int, hop: int, win: int, pad: int, window: str = "hann") -> np.ndarray:
    """[B, T] -> complex [B, n_fft // 2 + 1, frames]: reflect-pad `pad` per side (the edge sample not repeated),
    frame i = padded[i * hop : i * hop + n_fft] times the window centred in n_fft zeros, one-sided DFT."""
    padded = np.pad(x, ((0, 0), (pad, pad)), mode="reflect")
    n = np.arange(win)
    short = 0.5 - 0.5 * np.cos(2 * np.pi * n / win) if window == "hann" else np.ones(win)  # periodic Hann
    full = np.zeros(n_fft)
    left = (n_fft - win) // 2
    full[left : left + win] = short
    frames = 1 + (padded.shape[1] - n_fft) // hop
    index = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]
    return np.fft.rfft(padded[:, index] * full, axis=-1).transpose(0, 2, 1)


def numpy_stft_loss(y: np.ndarray, y_hat: np.ndarray, resolutions, power_floor: float = 1e-7) -> tuple[float, float]:
    """Parallel WaveGAN's loss: per resolution, |X| = sqrt(max(|X|^2, floor)) of a centred (n_fft // 2 reflect) STFT;
    SC = ||Y - Y_hat||_F / ||Y||_F over the batch, log magnitude = mean |log Y - log Y_hat|; means over resolutions."""
    sc, mag = [], []
    for n_fft, hop, win in resolutions:
        real, gen = (np.sqrt(np.maximum(np.abs(numpy_stft(a, n_fft, hop, win, n_fft // 2)) ** 2, power_floor))
                     for a in (y, y_hat))
        sc.append(np.sqrt(np.sum((real - gen) ** 2)) / np.sqrt(np.sum(real**2)))
        mag.append(np.mean(np.abs(np.log(real) - np.log(gen))))
    return float(np.mean(sc)), float(np.mean(mag))
