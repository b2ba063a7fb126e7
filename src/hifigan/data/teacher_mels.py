"""The teacher-forced mels of `hifigan train --input-mels`: each read as the model's float32 [num_mels, T], converted
from the convention `--mel-convention` declares (an ESPnet or Coqui model's log10 mels, a [frames, 80] layout) where
the map is exact, so a pretrained model fine-tunes on them in its own convention."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from hifigan.audio import AUDIO_SUFFIXES
from hifigan.errors import HifiganError, MelError
from hifigan.files.paths import case_twin
from hifigan.melconv.conventions import CONVENTIONS, NO_EXACT_MAP, parse_convention
from hifigan.melconv.given import misfit_verdict
from hifigan.melconv.model import ModelMel
from hifigan.melconv.verdict import MelVerdict
from hifigan.melconv.vocode_input import MelInput, load_vocode_mel, transposed_verdict
from hifigan.messages.option_names import flag, setting


def check_mel_convention(spec: str | None, cli: bool) -> None:
    """A one-line error for a --mel-convention that train cannot apply: unknown, no exact map, or one that needs
    statistics or a dB reference (train takes neither: denormalise such mels first); `cli` False: named as the
    TrainOptions field (option_names)."""
    if spec is None:
        return
    try:
        name = parse_convention(spec, setting("mel_convention", spec, cli))[1]
    except ValueError as e:
        if str(e).endswith(NO_EXACT_MAP):  # not vocode's hint, which points at train --input-mels itself
            raise HifiganError(None, f"{setting('mel_convention', spec, cli)}: no exact map to the model's mel "
                                     "exists (the filterbank or framing differs): train a model whose config computes "
                                     "these mels (its hop, window, rate, bins and band), with no "
                                     f"{flag('mel_convention', cli)}") from None
        raise HifiganError(None, str(e)) from None
    if not train_converts(name):
        raise HifiganError(None, f"{setting('mel_convention', spec, cli)}: train converts the conventions that "
                                 "need no statistics or dB reference; convert these mels to one first (e.g. "
                                 "denormalise them)")


def train_converts(name: str) -> bool:
    """Whether train can convert mels of convention `name`: one that needs no statistics nor a dB reference."""
    return not CONVENTIONS[name].needs_stats and name != "db-ref"


def train_option(verdict: MelVerdict, cli: bool) -> str:
    """What converts teacher mels of `verdict` for train: its --mel-convention (`cli` False: the TrainOptions field),
    or, for a convention train cannot apply, to convert them first (vocode's option would name --mel-stats or
    --mel-db-ref, which train does not take)."""
    if (instead := verdict.instead(lambda spec: setting("mel_convention", spec, cli))) is not None:
        return instead
    if train_converts(verdict.convention):
        return verdict.converts(setting("mel_convention", verdict.name, cli))
    if verdict.convention == "db-ref":
        return "convert them to the model's mel first (train takes no dB reference)"
    return (f"denormalise them first (train takes no statistics), or train a config whose mel_convention is "
            f"{verdict.convention}, with its mel_stats")


def load_teacher_mel(path: Path, model: ModelMel, convention: str | None = None, *, cli: bool) -> np.ndarray:
    """`path` as `model`'s float32 [num_mels, T]: converted from `convention` (None: the model's own, as it is). A
    [frames, num_mels] file read without 'transposed' is an error that names the option (`cli` False: the field)."""
    try:
        return load_vocode_mel(path, model, MelInput(convention))
    except MelError as e:
        verdict = transposed_verdict(e, path, model, MelInput(convention))
        if verdict is not None and verdict.convention in CONVENTIONS and train_converts(verdict.convention):
            raise MelError(path, f"{e.problem} (a [frames, {model.num_mels}] mel? read so: {verdict.reading}; "
                                 f"declare it: {train_option(verdict, cli)})") from None
        raise


JUDGED = 8  # the mels of a run whose values are judged (hifigan check-mel's detection): one front-end made them all


class MelFolder:
    """The --input-mels folder, where a clip's mel is <folder>/<stem>.npy. A missing one's error hints at the file
    meant (its name in another case, in a subfolder, or <stem>.wav.npy), from one listing of the folder, made at the
    first miss. The first JUDGED mels read are judged by their values, so that mels of another convention are warned
    of. `cli`: its hints name `hifigan train`'s options, else TrainJob's fields (option_names)."""

    def __init__(self, folder: Path, cli: bool) -> None:
        self.folder, self.cli = Path(folder), cli
        self._names: dict[str, list[Path]] | None = None  # lower-cased .npy name -> the files of that name, below
        self.judged = 0
        self.unlike: list[tuple[Path, MelVerdict]] = []  # the judged mels that do not look like the model's

    @classmethod
    def of(cls, folder: MelFolder | Path, cli: bool) -> MelFolder:
        """`folder` as a MelFolder (one, and so one listing, may serve several sets' scans)."""
        return folder if isinstance(folder, MelFolder) else cls(folder, cli)

    def judge(self, path: Path, mel: np.ndarray, model: ModelMel, convention: str | None = None) -> None:
        """Judge `mel` (read from `path` as the model's, converted from `convention` where given) by its values,
        while fewer than JUDGED have been. A mel converted from a clipping front-end's convention whose clip (top_db,
        clip_norm) lies above the model's floor is the model's (hifigan.melconv.clipped); a converted one that does not
        look like the model's is judged as the file gives it (hifigan.melconv.given)."""
        if self.judged < JUDGED:
            self.judged += 1
            if (verdict := misfit_verdict(path, mel, model, convention)) is not None:
                self.unlike.append((path, verdict))

    def warn_unlike(self, model: ModelMel) -> None:
        """One warning where most judged mels do not look like the model's (undeclared log10 or dB mels train a model
        on the wrong input scale): how many, the first, and the option that converts it. A few unlike the rest are
        the clips the judgement misreads (a short or quiet one), not the front-end's convention."""
        if 2 * len(self.unlike) > self.judged:
            path, verdict = self.unlike[0]
            line = verdict.as_given(verdict.line(train_option(verdict, self.cli)),
                                    lambda spec: setting("mel_convention", spec, self.cli))
            warnings.warn(f"{len(self.unlike)} of the first {self.judged} {flag('input_mels', self.cli)} mels do "
                          f"not look like {model.named()}, e.g. {path}: {line}", UserWarning, stacklevel=3)

    def mel_path(self, clip: Path) -> Path:
        return self.folder / f"{clip.stem}.npy"

    def explained(self, error: HifiganError, path: Path) -> HifiganError:
        """`error` (reading `path`), with a hint where `path` is missing and the file meant is elsewhere."""
        if path.exists() or not (hint := self._hint(path)):
            return error
        return type(error)(error.path, f"{error.problem} ({hint})")

    def _hint(self, path: Path) -> str:
        if self._names is None:
            self._names = {}
            for root, _, names in sorted(os.walk(self.folder)):  # symlinked folders not followed
                for name in sorted(names):
                    if name.lower().endswith(".npy"):
                        self._names.setdefault(name.lower(), []).append(Path(root) / name)
        found = self._names.get(path.name.lower(), [])
        if flat := [p for p in found if p.parent == self.folder]:
            return case_twin(flat[0].name)
        if found:
            return f"found in {found[0]}: {flag('input_mels', self.cli)} takes a flat folder"
        named = (p for suffix in AUDIO_SUFFIXES for p in self._names.get(f"{path.stem}{suffix}.npy".lower(), [])
                 if p.parent == self.folder)  # <audio name>.npy, as some TTS tools save their GTA mels
        if (after_audio := next(named, None)) is not None:
            return (f"found {after_audio.name}: {flag('input_mels', self.cli)} takes <stem>.npy, without the audio's "
                    "extension: rename the mels")
        return ""
