"""The shortest training segment that trains: the largest of what the mel front-end and each length-bound part the
config uses need (the mels' reflect padding, the MR-STFT loss's and the MRD's longest frame, the MPD's longest
period, the MSD's pooling down to its last scale), rounded up to whole hops. Every refusal of a segment too short
suggests this one length, so the value it gives passes the next check too."""

from __future__ import annotations

from collections.abc import Callable

from hifigan.config import HifiganConfig
from hifigan.config.values import integers
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from hifigan.models.discriminators import MPD_PERIODS, msd_min_samples
from hifigan.models.mrd import UNIVNET_RESOLUTIONS, mrd_min_samples
from hifigan.models.stft import PWG_RESOLUTIONS, check_resolutions, stft_loss_min_samples


def mel_floor(config: HifiganConfig, input_mel: MelSpectrogram | None = None,
              loss_mel: MelSpectrogram | None = None) -> int:
    """One sample more than the input's and the loss's mels reflect-pad a window per side (built where not given)."""
    input_mel = input_mel or MelSpectrogram(**config.mel_kwargs())
    loss_mel = loss_mel or MelSpectrogram(**config.mel_kwargs(for_loss=True))
    return max(input_mel.pad, loss_mel.pad) + 1


def _part_floors(config: HifiganConfig) -> list[int]:
    """What each length-bound part the config uses needs, read from its arguments; a part whose arguments do not
    read is left to its own check (training.registry), which refuses them in its own line."""
    reads: list[tuple[Callable[..., int], object]] = []
    if config.loss_weights.get("stft", 0) > 0:
        reads.append((_stft_floor, config.loss_args.get("stft", {}).get("resolutions", PWG_RESOLUTIONS)))
    if "mrd" in config.discriminators:
        reads.append((_mrd_floor, config.discriminator_args.get("mrd", {}).get("resolutions", UNIVNET_RESOLUTIONS)))
    if "mpd" in config.discriminators:
        reads.append((_mpd_floor, config.discriminator_args.get("mpd", {}).get("periods", MPD_PERIODS)))
    if "msd" in config.discriminators:
        reads.append((_msd_floor, config.discriminator_args.get("msd", {})))
    floors = []
    for read, arguments in reads:
        try:
            floors.append(read(arguments))
        except (TypeError, ValueError):
            continue
    return floors


def _stft_floor(resolutions: object) -> int:
    return stft_loss_min_samples(check_resolutions(resolutions))


def _mrd_floor(resolutions: object) -> int:
    return mrd_min_samples(check_resolutions(resolutions))


def _mpd_floor(periods: object) -> int:
    return max(integers("periods", periods, 1))


def _msd_floor(arguments: dict) -> int:
    pooling = ("scales", "pool_kernel_size", "pool_stride", "pool_padding")
    return msd_min_samples(**{key: value for key, value in arguments.items() if key in pooling})


def shortest_segment(config: HifiganConfig) -> int:
    """The shortest segment_size that trains with this config: the largest floor, rounded up to whole hops."""
    need = max([mel_floor(config), *_part_floors(config)])
    return -(-need // config.hop_size) * config.hop_size


def segment_advice(config: HifiganConfig) -> str:
    """The end of every 'segment too short' line: the length to give instead."""
    return f"give {shortest_segment(config)} or more, a multiple of hop_size {config.hop_size}"


def check_segment_size(config: HifiganConfig, input_mel: MelSpectrogram | None = None,
                       loss_mel: MelSpectrogram | None = None) -> None:
    """A training window (config.segment_size) longer than its mels reflect-pad it per side, else a one-line
    ConfigError naming the shortest that trains: refused by `hifigan train` before the corpus is scanned
    (training.preflight) and by a training VocoderDataset."""
    floor = mel_floor(config, input_mel, loss_mel)
    if config.segment_size < floor:
        raise ConfigError(None, f"segment_size {config.segment_size} is too short for the mel front-end, which "
                                f"pads a window by {floor - 1} samples per side: {segment_advice(config)}")
