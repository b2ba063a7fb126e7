"""The padding of an upsampling transposed convolution that gives exactly `rate` output samples per input sample.

A ConvTranspose1d with stride u, kernel k, padding p and output padding q turns L samples into
(L - 1) u - 2p + k + q; that is L u for every L exactly when 2p - q = k - u. The official code takes
p = (k - u) // 2, q = 0, exact only when k - u is even. Where k - u is odd, p = (k - u + 1) // 2 and q = 1
(for the usual k = 2u with an odd u: p = u // 2 + u % 2, q = u % 2, as Parallel WaveGAN's HiFi-GAN generator
does). PyTorch needs q < u, so that fix does not exist for u = 1; and k < u would leave samples no tap reaches.
Imports nothing from the package: the config checks a config with it, the generator builds its layers with it.
"""

from __future__ import annotations


def transposed_padding(rate: int, kernel: int) -> tuple[int, int]:
    """(padding, output_padding) making ConvTranspose1d(stride=rate, kernel_size=kernel) output rate x its input.

    The official `(kernel - rate) // 2` where it is exact. Raises ValueError (saying which kernel would do) when
    no choice is exact: kernel < rate, or kernel - rate odd with rate 1.
    """
    if rate < 1 or kernel < 1:
        raise ValueError(f"rate {rate} and kernel {kernel} must be >= 1")
    if kernel < rate:
        raise ValueError(f"kernel {kernel} is shorter than its rate {rate} (some output samples would see no input); "
                         f"use {2 * rate}")
    excess = kernel - rate
    if excess % 2 == 0:
        return official_padding(rate, kernel), 0
    if rate == 1:
        raise ValueError(f"kernel {kernel} with rate 1 has no exact padding (an output padding must be < the "
                         f"stride); use {kernel + 1}")
    return (excess + 1) // 2, 1


def official_padding(rate: int, kernel: int) -> int:
    """The official generator's padding of ConvTranspose1d(stride=rate, kernel_size=kernel): (kernel - rate) // 2,
    no output padding."""
    return (kernel - rate) // 2


def official_samples(frames: int, rates: list[int], kernels: list[int]) -> int:
    """The samples the official generator's upsampling gives for `frames` mel frames (its other layers keep the
    length): each stage turns L into (L - 1) u - 2 p + k with p = official_padding(u, k); rates x frames exactly
    when every kernel - rate is even."""
    length = frames
    for rate, kernel in zip(rates, kernels):
        length = (length - 1) * rate - 2 * official_padding(rate, kernel) + kernel
    return length
