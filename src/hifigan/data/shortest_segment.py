"""The shortest training segment that trains: the largest of what the mel front-end needs (the mels' reflect padding)
and the floors of the length-bound parts the config uses (each declared beside its factory and read by
hifigan.training.registry: the MR-STFT loss's and the MRD's longest frame, the MPD's longest period, the MSD's pooling
down to its last scale), rounded up to whole hops. Every refusal of a segment too short suggests this one length, so
the value it gives passes the next check too. Given the parts' floors, it knows no part: a dataset checks its
front-end here without the registry."""

from __future__ import annotations

from collections.abc import Iterable

from hifigan.config import HifiganConfig
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram


def mel_floor(config: HifiganConfig, input_mel: MelSpectrogram | None = None,
              loss_mel: MelSpectrogram | None = None) -> int:
    """One sample more than the input's and the loss's mels reflect-pad a window per side (built where not given)."""
    input_mel = input_mel or MelSpectrogram(**config.mel_kwargs())
    loss_mel = loss_mel or MelSpectrogram(**config.mel_kwargs(for_loss=True))
    return max(input_mel.pad, loss_mel.pad) + 1


def shortest_segment(config: HifiganConfig, part_floors: Iterable[int] = ()) -> int:
    """The shortest segment_size that trains with this config and parts needing `part_floors`: the largest floor,
    rounded up to whole hops."""
    need = max([mel_floor(config), *part_floors])
    return -(-need // config.hop_size) * config.hop_size


def segment_advice(config: HifiganConfig, part_floors: Iterable[int] = ()) -> str:
    """The end of every 'segment too short' line: the length to give instead."""
    return f"give {shortest_segment(config, part_floors)} or more, a multiple of hop_size {config.hop_size}"


def check_segment_size(config: HifiganConfig, part_floors: Iterable[int] = (), input_mel: MelSpectrogram | None = None,
                       loss_mel: MelSpectrogram | None = None) -> None:
    """A training window (config.segment_size) longer than its mels reflect-pad it per side, else a one-line
    ConfigError naming the shortest that trains with parts needing `part_floors`: refused by `hifigan train` before
    the corpus is scanned (training.registry.check_segment_size, with the config's parts) and by a training
    VocoderDataset (which knows no part: its suggestion counts the front-end alone; a run checks the parts first)."""
    floor = mel_floor(config, input_mel, loss_mel)
    if config.segment_size < floor:
        raise ConfigError(None, f"segment_size {config.segment_size} is too short for the mel front-end, which "
                                f"pads a window by {floor - 1} samples per side: "
                                f"{segment_advice(config, part_floors)}")
