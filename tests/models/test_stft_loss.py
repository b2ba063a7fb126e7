"""Multi-resolution STFT loss (Parallel WaveGAN) against a float64 numpy reference written from the definitions."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.models.stft import PWG_RESOLUTIONS, multi_resolution_stft_loss, stft_magnitude
from hifigan.training.losses import MultiResolutionSTFTLoss
from tests.support.stft_reference import numpy_stft_loss


def speech_like(batch: int, length: int, seed: int, silence: tuple[int, int] | None = None) -> np.ndarray:
    """[B, T] float64: tones plus noise, exactly zero over `silence` (so some frames sit on the magnitude floor)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 22050
    x = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 400, (batch, 1)) * t) + 0.05 * rng.standard_normal((batch, length))
    if silence is not None:
        x[:, silence[0] : silence[1]] = 0.0
    return x


def pair(batch: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(real, generated): the real audio is silent over 2500 samples where the generated one holds faint noise, so
    the log term compares the floor sqrt(1e-7) with magnitudes ~1e-1 (another floor moves it by a factor ~3)."""
    y = speech_like(batch, length, seed, silence=(length // 4, length // 4 + 2500))
    return y, 0.8 * y + 0.01 * np.random.default_rng(seed + 1).standard_normal(y.shape)


@pytest.mark.parametrize("length", [8192, 5001])
def test_magnitude_shapes_are_centred_frames(length):
    x = torch.randn(3, length)
    shapes = [tuple(stft_magnitude(x, r).shape) for r in PWG_RESOLUTIONS]
    # center=True framing: 1 + T // hop frames of n_fft // 2 + 1 bins
    expected = {8192: [(3, 513, 69), (3, 1025, 35), (3, 257, 164)], 5001: [(3, 513, 42), (3, 1025, 21), (3, 257, 101)]}
    assert shapes == expected[length]


@pytest.mark.parametrize("length", [8192, 5001])
def test_loss_matches_numpy_reference_in_float64(length):
    y, y_hat = pair(2, length, seed=length)
    sc, mag = multi_resolution_stft_loss(torch.from_numpy(y)[:, None], torch.from_numpy(y_hat)[:, None])
    ref_sc, ref_mag = numpy_stft_loss(y, y_hat, PWG_RESOLUTIONS)
    assert sc.dtype == mag.dtype == torch.float64 and sc.shape == mag.shape == ()
    assert abs(sc.item() - ref_sc) < 1e-10 and abs(mag.item() - ref_mag) < 1e-10
    assert ref_mag > 0.5  # the silent stretch: log(sqrt(1e-7)) against log of ~1e-5 magnitudes


@settings(max_examples=25, deadline=None)
@given(length=st.integers(1025, 4000), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_loss_matches_numpy_reference_over_lengths(length, batch, seed):
    y = speech_like(batch, length, seed)
    y_hat = speech_like(batch, length, seed + 1)
    sc, mag = MultiResolutionSTFTLoss()(torch.from_numpy(y), torch.from_numpy(y_hat))
    ref_sc, ref_mag = numpy_stft_loss(y, y_hat, PWG_RESOLUTIONS)
    assert abs(sc.item() - ref_sc) < 1e-10 and abs(mag.item() - ref_mag) < 1e-10


def test_identical_inputs_give_zero_loss_and_zero_gradient():
    y = torch.from_numpy(speech_like(2, 4096, 0, silence=(1000, 3500)))
    y_hat = y.clone().requires_grad_()
    sc, mag = multi_resolution_stft_loss(y, y_hat)
    assert sc.item() == 0.0 and mag.item() == 0.0
    (sc + mag).backward()
    assert torch.isfinite(y_hat.grad).all()


def test_gradient_reaches_the_generated_audio_only():
    y, y_hat = (torch.from_numpy(a).requires_grad_() for a in pair(2, 4096, 1))
    sc, mag = multi_resolution_stft_loss(y, y_hat)
    (sc + mag).backward()
    assert y.grad is None
    assert torch.isfinite(y_hat.grad).all() and y_hat.grad.abs().sum() > 0


def test_finite_difference_gradient():
    y, y_hat = (torch.from_numpy(a) for a in pair(1, 2048, 2))
    y_hat.requires_grad_()
    sc, mag = multi_resolution_stft_loss(y, y_hat)
    (sc + mag).backward()
    i, eps = 700, 1e-6  # a sample away from the silent stretch and the padded edges
    bumped = [y_hat.detach().clone() for _ in range(2)]
    bumped[0][0, i] += eps
    bumped[1][0, i] -= eps
    plus, minus = (sum(multi_resolution_stft_loss(y, b)).item() for b in bumped)
    assert (plus - minus) / (2 * eps) == pytest.approx(y_hat.grad[0, i].item(), rel=1e-5)


def test_bf16_autocast_computes_the_stft_in_float32():
    y = torch.from_numpy(speech_like(2, 4096, 3)).float()
    y_hat = (y + 0.01 * torch.randn_like(y)).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        sc, mag = multi_resolution_stft_loss(y, y_hat)
    expected = multi_resolution_stft_loss(y, y_hat.float())
    assert sc.dtype == mag.dtype == torch.float32
    assert torch.equal(sc, expected[0]) and torch.equal(mag, expected[1])


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="one shape"):
        multi_resolution_stft_loss(torch.zeros(1, 4096), torch.zeros(1, 4000))
    with pytest.raises(ValueError, match=r"2048-point STFT .* needs at least 1025 samples; got 1024"):
        multi_resolution_stft_loss(torch.zeros(1, 1024), torch.zeros(1, 1024))
    with pytest.raises(ValueError, match="win <= n_fft"):
        MultiResolutionSTFTLoss(((512, 128, 600),))
