"""Multi-resolution spectrogram discriminator (MRD) of UnivNet (Jang et al. 2021), also used by BigVGAN.

Each sub-discriminator scores the linear magnitude spectrogram at one STFT resolution with 2-D convolutions. It is
an option beside MPD and MSD (off in the paper's recipe) and has the same interface as those ensembles.
"""

from __future__ import annotations

from torch import Tensor, nn

from hifigan.config.values import integer, number
from hifigan.models.discriminators import _ConvStack, _Ensemble
from hifigan.models.generator import LRELU_SLOPE
from hifigan.models.norms import weight_norm
from hifigan.models.stft import (
    PWG_RESOLUTIONS,
    Resolution,
    check_resolution,
    check_resolutions,
    min_samples,
    padded_stft,
)

UNIVNET_RESOLUTIONS = PWG_RESOLUTIONS
"""UnivNet's (n_fft, hop, win) triples, in its order: Parallel WaveGAN's."""
MRD_CHANNELS = 32  # UnivNet's channels per convolution
MRD_WINDOW = "hann"  # ours; UnivNet's and BigVGAN's code frame with a rectangular window
MRD_LRELU_SLOPE = LRELU_SLOPE  # HiFi-GAN's and BigVGAN's MRD's 0.1; UnivNet's code uses 0.2 (its mpd.lReLU_slope)


def mrd_min_samples(resolutions: tuple[Resolution, ...] = UNIVNET_RESOLUTIONS) -> int:
    """The shortest audio (training segment) the MRD scores at these resolutions (905 for UnivNet's)."""
    return max(min_samples(r, (r[0] - r[1]) // 2) for r in resolutions)


class DiscriminatorR(_ConvStack):
    """One resolution: |STFT| as a [B, 1, freq, frames] image, five 2-D convs (leaky ReLU) and a 1-channel post conv.

    Layout and kernels are UnivNet's: kernels (3, 9) are 3 bins by 9 frames, and the three stride-(1, 2) convs halve
    the frame axis (ceil), never the frequency axis. Padding keeps sizes otherwise, so for input [B, 1, T]:
    freq = n_fft // 2 + 1, frames = 1 + (T + 2 * ((n_fft - hop) // 2) - n_fft) // hop,
    feature maps [B, C, freq, frames], then [B, C, freq, f1], [B, C, freq, f2], [B, C, freq, f3] x 2 with
    f_k = ceil(frames / 2^k), and [B, 1, freq, f3]; score [B, freq * f3].

    The audio is reflect-padded by (n_fft - hop) // 2 per side and framed with no further padding (UnivNet's framing),
    so it needs more than that many samples (905 for (2048, 240, 1200)) and a hop of at most n_fft. The window is
    Hann by default; UnivNet's and BigVGAN's code pass no window to torch.stft, i.e. a rectangular one:
    `window="rectangular"`. The leaky ReLUs' negative slope is 0.1 by default, as HiFi-GAN's and BigVGAN's MRD;
    UnivNet's code uses 0.2: `lrelu_slope=0.2`.
    """

    def __init__(self, resolution: Resolution = UNIVNET_RESOLUTIONS[0], channels: int = MRD_CHANNELS,
                 window: str = MRD_WINDOW, lrelu_slope: float = MRD_LRELU_SLOPE) -> None:
        super().__init__()
        self.slope = number("lrelu_slope", lrelu_slope, 0, 1)
        self.resolution = check_resolution(resolution, window)
        n_fft, hop, _ = self.resolution
        if hop > n_fft:
            raise ValueError(f"the MRD's resolution {self.resolution} has hop {hop} > n_fft {n_fft}: it reflect-pads "
                             f"(n_fft - hop) // 2 samples per side")
        self.window = window
        c = integer("channels", channels, 1)
        # (in, out, kernel, stride, padding)
        layers = [
            (1, c, (3, 9), (1, 1), (1, 4)),
            (c, c, (3, 9), (1, 2), (1, 4)),
            (c, c, (3, 9), (1, 2), (1, 4)),
            (c, c, (3, 9), (1, 2), (1, 4)),
            (c, c, (3, 3), (1, 1), (1, 1)),
        ]
        self.convs = nn.ModuleList(weight_norm(nn.Conv2d(i, o, k, s, padding=p)) for i, o, k, s, p in layers)
        self.conv_post = weight_norm(nn.Conv2d(c, 1, (3, 3), 1, padding=(1, 1)))

    def spectrogram(self, x: Tensor) -> Tensor:
        """[B, 1, T] audio -> [B, 1, n_fft // 2 + 1, frames] magnitude, float32 (float64 for float64 input)."""
        n_fft, hop, _ = self.resolution
        spec = padded_stft(x.reshape(x.shape[0], x.shape[-1]), self.resolution, (n_fft - hop) // 2, self.window)
        return spec.abs().unsqueeze(1)  # |z| has gradient 0 at z = 0, as torch.norm over (re, im) does

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """[B, 1, T] -> (score [B, freq * f3], 6 feature maps); see the class docstring for the shapes."""
        return self.score(self.spectrogram(x))


class MultiResolutionDiscriminator(_Ensemble):
    """MRD: one DiscriminatorR per STFT resolution; every sub-discriminator sees the raw audio [B, 1, T].

    forward(y, y_hat) -> (real scores, generated scores, real feature maps, generated feature maps), one entry per
    resolution, six feature maps each; generator_side(y, y_hat) as for MPD and MSD.
    """

    def __init__(self, resolutions: tuple[Resolution, ...] = UNIVNET_RESOLUTIONS, channels: int = MRD_CHANNELS,
                 window: str = MRD_WINDOW, lrelu_slope: float = MRD_LRELU_SLOPE) -> None:
        super().__init__()
        self.resolutions = check_resolutions(resolutions, window)
        self.discriminators = nn.ModuleList(DiscriminatorR(r, channels, window, lrelu_slope) for r in self.resolutions)
