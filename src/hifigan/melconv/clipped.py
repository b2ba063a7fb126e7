"""A mel converted from a clipped source: librosa's amplitude_to_db and power_to_db cut everything top_db (80 dB)
below the maximum, Coqui TTS's clip_norm everything below min_level_db. Converted to a model's convention such a mel
floors at its clip, above the model's floor, and reads as another convention although the conversion was the right
one. What the clip cut is lost (docs/sample-rates.md); the rest is the model's mel."""

from __future__ import annotations

import numpy as np

from hifigan.melconv.conventions import CONVENTIONS, forward, parse_convention
from hifigan.melconv.detect import SPEECH_SPREAD, detect
from hifigan.melconv.model import ModelMel

MIN_ON_CLIP = 3  # values on the clip needed to call it one
CLIPPING = ("db", "db-ref", "minmax01", "minmax4")  # the conventions of front-ends that clip: top_db, clip_norm


def clipped_but_own(mel: np.ndarray, model: ModelMel, spec: str | None) -> bool:
    """Whether `mel` [num_mels, T], converted from --mel-convention `spec` (None: not converted), is the model's own
    mel but for a clip above the model's floor: `spec` names a convention of a clipping front-end (CLIPPING), and
    the mel's lowest values, lowered to the model's floor, make a mel `detect` takes as the model's, whose values
    above the clip spread as speech does (a mel squeezed or stretched by the wrong conversion does not). Never for
    a normalising or linear model (no floor to lower to)."""
    if spec is None or model.is_own(spec) or parse_convention(spec)[1] not in CLIPPING:
        return False
    if model.stats is not None or model.floor is None:
        return False
    floor = float(forward(np.array([model.floor]), model.convention, model.floor)[0])
    low = float(mel.min())
    on_clip = mel <= low + 1e-6 * max(1.0, abs(low))
    if low <= floor + 1e-4 * max(1.0, abs(floor)) or np.count_nonzero(on_clip) < MIN_ON_CLIP:
        return False
    verdict = detect(np.where(on_clip, floor, mel), model.num_mels, model)
    spread = CONVENTIONS[model.convention].scale * verdict.evidence["spread"]
    return verdict.matches and SPEECH_SPREAD[0] <= spread <= SPEECH_SPREAD[1]
