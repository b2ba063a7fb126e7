"""Tiny model configs and a tiny discriminator, so tests run real computation in milliseconds."""

import torch
import torch.nn.functional as F
from torch import nn

from hifigan.config import DEFAULT_DISCRIMINATORS, HifiganConfig, config_from_dict, load_config

# Narrow MPD and MSD (the official layers, kernels, strides and norms; ~120 k parameters instead of 70 M): a training
# step's claims (exactness, resume, DDP, checkpoints) hold at any width. Distinct widths per layer, groups > 1.
TINY_DISCRIMINATORS = {"mpd": {"channels": [4, 8, 16, 32, 24]},
                       "msd": {"channels": [8, 8, 16, 16, 32, 32, 24], "groups": [1, 2, 4, 4, 4, 4, 1]}}

# The official 80 mel bins on a tiny config: at 8 kHz n_fft 64's bins (125 Hz apart) leave 26 of 80 mel filters empty,
# which a config refuses (hifigan.config.mel_filters); n_fft 256 fills them all, hop and window kept.
MELS_80 = {"num_mels": 80, "n_fft": 256}


def tiny_config(resblock: str = "2", official_discriminators: bool = False, **overrides) -> HifiganConfig:
    """A 2-stage generator (hop 16) on 16 mel bins; same code paths as the official configs. MPD and MSD are
    TINY_DISCRIMINATORS unless `official_discriminators` or the overrides give discriminator_args."""
    values = dict(
        resblock=resblock, upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8], upsample_initial_channel=32,
        resblock_kernel_sizes=[3, 5], resblock_dilation_sizes=[[1, 2], [2, 3]] if resblock == "2" else [[1, 3], [1, 3]],
        hop_size=16, n_fft=64, win_size=64, num_mels=16, sampling_rate=8000, fmax=None, segment_size=512,
        batch_size=2, num_workers=0,
    )
    values.update(overrides)
    if not official_discriminators and "discriminator_args" not in overrides:
        values = narrow_discriminators(values)
    return config_from_dict(values)


def stft_for_hop(hop: int) -> dict:
    """hop_size, n_fft and win_size for a tiny config of hop `hop`: n_fft 64 where the hop fits in it, the window
    the frame (hop <= win_size = n_fft, as hifigan.config.stft_geometry needs), n_fft - hop even (the official
    framing)."""
    n_fft = max(64, hop) + (max(64, hop) - hop) % 2
    return {"hop_size": hop, "n_fft": n_fft, "win_size": n_fft}


def narrow_discriminators(values: dict) -> dict:
    """Config values with TINY_DISCRIMINATORS' widths added to the arguments of the MPD and MSD they name (their
    other arguments kept)."""
    args = {name: dict(a) for name, a in values.get("discriminator_args", {}).items()}
    for name in values.get("discriminators", DEFAULT_DISCRIMINATORS):
        if name in TINY_DISCRIMINATORS:
            args[name] = {**args.get(name, {}), **TINY_DISCRIMINATORS[name]}
    return {**values, "discriminator_args": args}



# name: (preset, changes): V1 at a 16 kHz-style hop 200, and the generators of the pwg-24k and audiosr-48k presets.
ODD_RATES = {
    "h200": ("v1", dict(upsample_rates=[5, 5, 4, 2], upsample_kernel_sizes=[10, 10, 8, 4], hop_size=200,
                        segment_size=8000, sampling_rate=16000, n_fft=1024, win_size=800)),
    "h300": ("pwg-24k", {}),  # [5, 5, 4, 3] / [10, 10, 8, 6]
    "h480": ("audiosr-48k", {}),  # [6, 5, 4, 2, 2] / [12, 10, 8, 4, 4], 256 mel bins
}


def odd_rate_config(name: str, channels: int = 32, **overrides) -> HifiganConfig:
    """An ODD_RATES geometry `channels` wide: its rates, kernels and dilations (so its receptive field) kept,
    float64 fast."""
    preset, changes = ODD_RATES[name]
    return config_from_dict({**load_config(preset).to_dict(), **changes, "upsample_initial_channel": channels,
                             **overrides})


class TinyDiscriminator(nn.Module):
    """One strided conv and an output conv on raw audio: one sub-discriminator, two feature maps; a cheap
    adversary, so that a run's cost is the generator's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 5, stride=2, padding=2)
        self.post = nn.Conv1d(4, 1, 3, padding=1)

    def score(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = F.leaky_relu(self.conv(x), 0.1)
        s = self.post(h)
        return torch.flatten(s, 1), [h, s]

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor):
        (r, fr), (g, fg) = self.score(y), self.score(y_hat)
        return [r], [g], [fr], [fg]
