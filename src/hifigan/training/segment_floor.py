"""A training run's check of its segment against the mel front-end, whose refusal suggests the length every part the
config uses trains with (their floors read from the registry): `hifigan train`'s preflight and a Trainer's."""

from __future__ import annotations

from hifigan.config import HifiganConfig
from hifigan.data import shortest_segment
from hifigan.training.registry import part_floors


def check_segment_size(config: HifiganConfig) -> None:
    """hifigan.data.shortest_segment.check_segment_size, told the floors of the config's parts."""
    shortest_segment.check_segment_size(config, part_floors(config))
