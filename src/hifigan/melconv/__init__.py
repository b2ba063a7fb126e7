"""Mel conventions: each front-end's map from the mel magnitude, recognising a convention from the values, and
converting a mel to the official one or to a model's own where the map is exact."""

from hifigan.melconv.conventions import (
    CONVENTIONS,
    FRONT_END,
    OFFICIAL_FLOOR,
    MelStats,
    forward,
    parse_convention,
    to_nats,
    to_official,
)
from hifigan.melconv.detect import detect
from hifigan.melconv.model import ModelMel
from hifigan.melconv.verdict import MelVerdict

__all__ = ["CONVENTIONS", "FRONT_END", "OFFICIAL_FLOOR", "MelStats", "MelVerdict", "ModelMel", "detect", "forward",
           "parse_convention", "to_nats", "to_official"]
