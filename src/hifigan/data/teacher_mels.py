"""The teacher-forced mels of `hifigan train --input-mels`: each read as the model's float32 [num_mels, T], converted
from the convention `--mel-convention` declares (an ESPnet or Coqui model's log10 mels, a [frames, 80] layout) where
the map is exact, so a pretrained model fine-tunes on them in its own convention."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hifigan.errors import HifiganError, MelError
from hifigan.melconv.conventions import CONVENTIONS, parse_convention
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import MelInput, load_vocode_mel, transposed_option


def check_mel_convention(spec: str | None) -> None:
    """A one-line error for a --mel-convention that train cannot apply: unknown, no exact map, or one that needs
    statistics or a dB reference (train takes neither: denormalise such mels first)."""
    if spec is None:
        return
    try:
        name = parse_convention(spec)[1]
    except ValueError as e:
        raise HifiganError(None, str(e)) from None
    if CONVENTIONS[name].needs_stats or name == "db-ref":
        raise HifiganError(None, f"--mel-convention {spec}: train converts the conventions that need no statistics "
                                 "or dB reference; convert these mels to one first (e.g. denormalise them)")


def load_teacher_mel(path: Path, model: ModelMel, convention: str | None = None) -> np.ndarray:
    """`path` as `model`'s float32 [num_mels, T]: converted from `convention` (None: the model's own, as it is). A
    [frames, num_mels] file read without 'transposed' is an error that names the option."""
    try:
        return load_vocode_mel(path, model, MelInput(convention))
    except MelError as e:
        option = transposed_option(e, path, model, MelInput(convention))
        if option is not None and not CONVENTIONS[parse_convention(option)[1]].needs_stats:  # as check_mel_convention
            raise MelError(path, f"{e.problem} (a [frames, {model.num_mels}] mel? declare it: --mel-convention "
                                 f"{option})") from None
        raise
