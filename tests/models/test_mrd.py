"""Multi-resolution spectrogram discriminator (MRD): shapes, its STFT against numpy, the ensemble interface."""

import numpy as np
import pytest
import torch

from hifigan.models import UNIVNET_RESOLUTIONS, DiscriminatorR, MultiResolutionDiscriminator
from hifigan.training.losses import discriminator_loss, feature_loss, generator_loss
from tests.support.stft_reference import numpy_stft

pytestmark = pytest.mark.usefixtures("single_thread")  # 2-D convs over [freq, frames] images oversubscribe 2 cores

# (freq bins, frames) of the spectrogram and the final frame count (three ceil-halvings) per resolution
SHAPES = {
    8192: [(513, 68, 9), (1025, 34, 5), (257, 163, 21)],
    5001: [(513, 41, 6), (1025, 20, 3), (257, 100, 13)],
}


def audio(batch: int, length: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (0.3 * torch.randn(batch, 1, length, generator=g, dtype=torch.float64)).to(dtype)


@pytest.fixture(scope="module")
def mrd() -> MultiResolutionDiscriminator:
    torch.manual_seed(0)
    return MultiResolutionDiscriminator()


@pytest.mark.parametrize("length", [8192, 5001])
def test_output_shapes(mrd, length):
    with torch.no_grad():
        rs, gs, frs, fgs = mrd(audio(2, length), audio(2, length, 1))
    assert len(rs) == len(gs) == len(frs) == len(fgs) == 3
    for (freq, frames, last), r, g, fr, fg in zip(SHAPES[length], rs, gs, frs, fgs):
        assert r.shape == g.shape == (2, freq * last)
        halved = [frames, (frames + 1) // 2, (frames + 3) // 4, last, last]
        expected = [(2, 32, freq, f) for f in halved] + [(2, 1, freq, last)]
        assert [tuple(f.shape) for f in fr] == [tuple(f.shape) for f in fg] == expected


@pytest.mark.parametrize("window", ["hann", "rectangular"])
@pytest.mark.parametrize("length", [8192, 5001])
def test_spectrogram_matches_numpy_in_float64(window, length):
    x = audio(2, length, 2, torch.float64)
    for resolution in UNIVNET_RESOLUTIONS:
        n_fft, hop, win = resolution
        d = DiscriminatorR(resolution, window=window).double()
        ours = d.spectrogram(x)
        ref = np.abs(numpy_stft(x[:, 0].numpy(), n_fft, hop, win, (n_fft - hop) // 2, window))
        assert ours.dtype == torch.float64 and tuple(ours.shape) == (2, 1, *ref.shape[1:])
        assert np.max(np.abs(ours[:, 0].numpy() - ref)) < 1e-10


def test_the_spectrogram_of_silence_is_0_with_gradient_0():
    """|STFT| with no floor: silence gives exact zeros, and the gradient there is 0 (not nan), as torch.norm's."""
    x = torch.zeros(1, 1, 128, dtype=torch.float64, requires_grad=True)
    spec = DiscriminatorR((64, 16, 64)).double().spectrogram(x)
    assert spec.shape == (1, 1, 33, 8) and torch.equal(spec, torch.zeros_like(spec))
    spec.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_identical_inputs_score_identically(mrd):
    y = audio(2, 4096, 3)
    with torch.no_grad():
        rs, gs, frs, fgs = mrd(y, y.clone())
    assert all(torch.equal(r, g) for r, g in zip(rs, gs))
    assert all(torch.equal(a, b) for fr, fg in zip(frs, fgs) for a, b in zip(fr, fg))


def test_state_dict_keys_and_shapes(mrd):
    per_resolution = {
        "convs.0.bias": (32,), "convs.0.parametrizations.weight.original0": (32, 1, 1, 1),
        "convs.0.parametrizations.weight.original1": (32, 1, 3, 9),
        **{k: s for i in (1, 2, 3) for k, s in (
            (f"convs.{i}.bias", (32,)), (f"convs.{i}.parametrizations.weight.original0", (32, 1, 1, 1)),
            (f"convs.{i}.parametrizations.weight.original1", (32, 32, 3, 9)))},
        "convs.4.bias": (32,), "convs.4.parametrizations.weight.original0": (32, 1, 1, 1),
        "convs.4.parametrizations.weight.original1": (32, 32, 3, 3),
        "conv_post.bias": (1,), "conv_post.parametrizations.weight.original0": (1, 1, 1, 1),
        "conv_post.parametrizations.weight.original1": (1, 32, 3, 3),
    }
    expected = {f"discriminators.{i}.{k}": s for i in range(3) for k, s in per_resolution.items()}
    assert {k: tuple(v.shape) for k, v in mrd.state_dict().items()} == expected
    assert sum(p.numel() for p in mrd.parameters()) == 280_902  # 280_419 with weight norm folded


def test_generator_side_is_forwards_generated_half_in_float64():
    torch.manual_seed(1)
    mrd = MultiResolutionDiscriminator().double()
    y, y_hat = audio(2, 1024, 4, torch.float64), audio(2, 1024, 5, torch.float64)
    _, gs, frs, fgs = mrd(y, y_hat)
    side_gs, side_frs, side_fgs = mrd.generator_side(y, y_hat)
    pairs = [*zip(gs, side_gs), *(p for a, b in ((frs, side_frs), (fgs, side_fgs)) for fa, fb in zip(a, b)
                                  for p in zip(fa, fb))]
    assert len(pairs) == 3 + 2 * 18
    assert all(a.dtype == b.dtype == torch.float64 and (a - b).abs().max() <= 1e-12 for a, b in pairs)
    assert all(not f.requires_grad for fmap in side_frs for f in fmap)


def test_discriminator_training_steps_lower_its_loss():
    torch.manual_seed(2)
    mrd = MultiResolutionDiscriminator()
    optimizer = torch.optim.AdamW(mrd.parameters(), 1e-3, betas=(0.8, 0.99))
    t = torch.arange(1024) / 8000  # 1024 samples: the shortest power of two the (2048, 240, 1200) resolution takes
    y = (0.5 * torch.sin(2 * torch.pi * torch.tensor([[220.0], [330.0]]) * t))[:, None]
    y_hat = 0.1 * torch.randn(2, 1, 1024, generator=torch.Generator().manual_seed(3))
    losses = []
    for step in range(3):
        rs, gs, _, _ = mrd(y, y_hat)
        loss, _, _ = discriminator_loss(rs, gs)
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
                       for p in mrd.parameters())
        optimizer.step()
        losses.append(loss.item())
    assert losses[2] < losses[1] < losses[0]


def test_generator_gradient_reaches_the_generated_audio_only(mrd):
    y = audio(1, 4096, 6).requires_grad_()
    y_hat = audio(1, 4096, 7)
    y_hat[..., 1000:3500] = 0  # whole frames of zeros at every resolution: |z| must pass a finite gradient at z = 0
    y_hat.requires_grad_()
    gs, frs, fgs = mrd.generator_side(y, y_hat)
    (generator_loss(gs)[0] + feature_loss(frs, fgs)).backward()
    assert y.grad is None
    assert torch.isfinite(y_hat.grad).all() and y_hat.grad.abs().sum() > 0
    mrd.zero_grad()


def test_bf16_autocast_runs_the_stft_in_float32(mrd):
    y = audio(2, 4096, 8)
    d = mrd.discriminators[0]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        spec = d.spectrogram(y.bfloat16())
        rs, gs, frs, _ = mrd(y, y.bfloat16())
    assert spec.dtype == torch.float32
    with torch.no_grad():
        assert torch.equal(spec, d.spectrogram(y.bfloat16().float()))
    assert all(r.dtype == torch.bfloat16 and torch.isfinite(r).all() for r in rs + gs)
    assert all(f.dtype == torch.bfloat16 for fmap in frs for f in fmap)
    assert [tuple(r.shape) for r in rs] == [(2, 513 * 5), (2, 1025 * 3), (2, 257 * 11)]


def test_too_short_audio_and_bad_resolutions_are_value_errors(mrd):
    with pytest.raises(ValueError, match=r"2048-point STFT \(hop 240, window 1200\) .* at least 905 samples; got 904"):
        mrd(audio(1, 904), audio(1, 904))
    with pytest.raises(ValueError, match="win <= n_fft"):
        DiscriminatorR((256, 64, 512))
    with pytest.raises(ValueError, match="unknown STFT window 'hamming'"):
        MultiResolutionDiscriminator(window="hamming")


@pytest.mark.parametrize("slope", [0.1, 0.2])
def test_univnets_settings_compute_univnets_sub_discriminator_in_float64(slope):
    """rectangular window and lrelu_slope 0.2 are UnivNet's code (0.1: BigVGAN's): |STFT| from numpy, then each conv
    (our weights) and leaky ReLU with that slope, conv_post last; score and all six maps as ours."""
    torch.manual_seed(4)
    resolution = (512, 50, 240)
    d = DiscriminatorR(resolution, channels=4, window="rectangular", lrelu_slope=slope).double()
    x = audio(2, 2000, 9, torch.float64)
    n_fft, hop, win = resolution
    h = torch.from_numpy(np.abs(numpy_stft(x[:, 0].numpy(), n_fft, hop, win, (n_fft - hop) // 2, "rectangular")))
    h, expected = h[:, None], []
    with torch.no_grad():
        for conv in d.convs:
            c = conv(h)
            h = torch.where(c >= 0, c, slope * c)
            expected.append(h)
        expected.append(d.conv_post(h))
        score, fmap = d(x)
    assert torch.allclose(score, expected[-1].flatten(1), rtol=0, atol=1e-10)
    assert len(fmap) == 6 and all(torch.allclose(a, b, rtol=0, atol=1e-10) for a, b in zip(fmap, expected))
