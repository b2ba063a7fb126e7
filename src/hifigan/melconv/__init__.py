"""Mels from other front-ends: recognise their convention from the values, convert them where the map is exact."""

from hifigan.melconv.conventions import CONVENTIONS, OFFICIAL_FLOOR, MelStats, parse_convention, to_official
from hifigan.melconv.detect import MelVerdict, detect

__all__ = ["CONVENTIONS", "OFFICIAL_FLOOR", "MelStats", "MelVerdict", "detect", "parse_convention", "to_official"]
