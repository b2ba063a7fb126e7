"""What vocode and train say of a mel read with --mel-convention: where the converted mel does not look like the
model's, the advice is about the input as given (the option to give instead, or none), never a conversion of the
converted values, which would be a second conversion of the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hifigan.melconv.clipped import clipped_but_own
from hifigan.melconv.conventions import parse_convention
from hifigan.melconv.detect import detect
from hifigan.melconv.model import ModelMel
from hifigan.melconv.verdict import MelVerdict


def misfit_verdict(path: Path, mel: np.ndarray, model: ModelMel, spec: str | None) -> MelVerdict | None:
    """None where `mel` (read from `path` as the model's [num_mels, T], converted from --mel-convention `spec`; None
    or the model's own convention: taken as it is) looks like the model's own, a clipped source's too
    (hifigan.melconv.clipped); else what to warn of: the verdict of `mel` where nothing was converted, else that of
    the file as given, its `declared` the `spec` it was converted from (its option is then one for the file, not for
    the converted values). Reads the file again only then."""
    spec = None if model.is_own(spec) else spec
    verdict = detect(mel, model.num_mels, model)
    if verdict.matches or clipped_but_own(mel, model, spec):
        return None
    if spec is None:
        return verdict
    from hifigan.mel_file import load_mel

    transposed = parse_convention(spec)[0]
    given = detect(load_mel(path, model.num_mels, transposed=transposed), model.num_mels, model)
    given.transposed, given.declared = transposed, spec  # judged as read ([num_mels, T]): the layout as declared
    return given
