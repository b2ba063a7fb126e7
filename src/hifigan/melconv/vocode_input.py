"""The .npy inputs of `hifigan vocode`: how they are read (`MelInput`: their convention, statistics, dB reference,
strictness), the conversion to the model's own mel convention, and the check before anything is written."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.errors import HifiganError, MelBinsError, MelError
from hifigan.melconv.conventions import CONVENTIONS, MelStats, parse_convention, stats_lacking
from hifigan.melconv.detect import judged_transposed
from hifigan.melconv.given import misfit_verdict
from hifigan.melconv.model import ModelMel
from hifigan.melconv.verdict import MelVerdict, vocode_option


@dataclass(frozen=True)
class MelInput:
    """How .npy mels are read: `convention` (None: the model's own, no conversion; else converted to the model's
    where the map is exact), `stats` (for meanstd/minmax: the file of the inputs' normalisation; None: the model's
    own), `db_ref` (for db-ref: the reference amplitude) and `strict` (a mel that does not look like the model's is
    an error, not a warning). `hifigan vocode`'s --mel-convention, --mel-stats, --mel-db-ref and --strict-mel."""

    convention: str | None = None
    stats: Path | None = None
    db_ref: float | None = None
    strict: bool = False


def warn_unused_options(options: MelInput) -> None:
    """--mel-stats (for meanstd/minmax) and --mel-db-ref (for db-ref) do nothing with any other --mel-convention,
    or none: one warning each, instead of ignoring them silently."""
    try:
        name = None if options.convention is None else parse_convention(options.convention)[1]
    except ValueError:
        return  # a bad --mel-convention is the error the inputs' check reports
    given = "no --mel-convention" if name is None else f"--mel-convention {options.convention}"
    if options.stats is not None and (name is None or not CONVENTIONS[name].needs_stats):
        *some, last = [n for n, c in CONVENTIONS.items() if c.needs_stats]  # the conventions that take statistics
        warnings.warn(f"--mel-stats applies to --mel-convention {', '.join(some)} or {last} only, and {given} was "
                      "given: ignored", UserWarning, stacklevel=3)
    if options.db_ref is not None and name != "db-ref":
        warnings.warn(f"--mel-db-ref applies to --mel-convention db-ref only, and {given} was given: ignored",
                      UserWarning, stacklevel=3)


def check_mel_options(model: ModelMel, options: MelInput) -> None:
    """The options' own mistakes, found once before any input is read (not once per .npy input, as if each were
    bad): an unknown --mel-convention, a --mel-stats file that does not read or lacks what the convention needs
    (named), a convention whose statistics or dB reference is not given (the option named)."""
    try:
        spec = options.convention
        if spec is None or model.is_own(spec):
            return
        stats = _stats(options, model.num_mels)
        missing = model.lacking(spec, stats, options.db_ref)
        if missing is not None:
            raise HifiganError(None, f"--mel-convention {spec} needs " + (
                "the normalisation statistics (--mel-stats FILE)" if missing == "stats" else
                "the reference amplitude (--mel-db-ref REF); a per-utterance ref=np.max is lost unless it was saved"))
        name = parse_convention(spec)[1]
        if stats is not None and CONVENTIONS[name].needs_stats and (keys := stats_lacking(name, stats)) is not None:
            raise HifiganError(options.stats, f"{name} needs per-bin {keys} in --mel-stats")
        probe = np.zeros((model.num_mels, model.num_mels))  # square: read as it is or transposed alike
        model.convert(probe, spec, stats, options.db_ref)
    except ValueError as e:
        raise HifiganError(None, str(e)) from None


def _stats(options: MelInput, num_mels: int) -> MelStats | None:
    if options.stats is None:
        return None
    from hifigan.melconv.stats import load_stats

    return load_stats(options.stats, num_mels)


def load_vocode_mel(path: Path, model: ModelMel, options: MelInput = MelInput()) -> np.ndarray:
    """A .npy input as the model's float32 [num_mels, T]: converted from `options.convention` where given."""
    from hifigan.mel_file import load_mel

    try:
        transposed, name = parse_convention(options.convention) if options.convention is not None else (False, None)
    except ValueError as e:
        raise HifiganError(None, str(e)) from None
    mel = load_mel(path, model.num_mels, transposed=transposed)  # [num_mels, T] from here: convert `name` alone
    if model.is_own(name):
        return mel
    stats = _stats(options, model.num_mels)
    try:
        return model.convert_checked(mel, name, stats, options.db_ref, str(path))
    except MelError:
        raise
    except ValueError as e:
        raise MelError(path, str(e)) from None


def check_vocode_mel(path: Path, model: ModelMel, options: MelInput = MelInput()) -> np.ndarray:
    """Load, convert and check a .npy input before anything is written: warn (or fail with --strict-mel) when it
    does not look like the model's mel. Returns the mel, as load_vocode_mel gives it."""
    try:
        mel = load_vocode_mel(path, model, options)
    except MelError as e:
        if verdict := transposed_verdict(e, path, model, options):
            raise MelError(path, f"{e.problem} (a [frames, {model.num_mels}] mel? read so: {verdict.reading}; "
                                 f"convert: {verdict.option})") from None
        raise
    if (verdict := misfit_verdict(path, mel, model, options.convention)) is None:
        return mel
    said = verdict.as_given(verdict.line(), vocode_option)  # where converted: of the file as given (declared)
    message = f"does not look like {model.named()}" + (f" {said}" if verdict.declared else f": {said}")
    if options.strict:
        raise MelError(path, message + " (--strict-mel)")
    warnings.warn(f"{path}: {message}", UserWarning, stacklevel=2)
    return mel


def transposed_verdict(error: MelError, path: Path, model: ModelMel, options: MelInput) -> MelVerdict | None:
    """`path` read as [frames, num_mels], where `error` is about its bins and that layout fits (_transposed_fits);
    None otherwise. With a convention named, that convention so read; else check-mel's verdict of the file
    (detect.judged_transposed), so that vocode, train and check-mel name one option for one file."""
    if not isinstance(error, MelBinsError) or not _transposed_fits(path, model, options):
        return None
    if options.convention is not None:  # the convention the user named, now read transposed
        name = parse_convention(options.convention)[1]
        return MelVerdict(name, 1.0, transposed=True, detail="as --mel-convention names it", expected=model.expected)
    from hifigan.mel_file import load_mel

    return judged_transposed(load_mel(path, model.num_mels, transposed=True), model.num_mels, model)


def _transposed_fits(path: Path, model: ModelMel, options: MelInput) -> bool:
    """Whether the hint "a [frames, num_mels] mel?" fits the file's shape: shape[0] != num_mels (it failed on its
    bins) and shape[1] == num_mels, [1, ...] batches squeezed; never when the input is already read transposed."""
    if options.convention is not None and parse_convention(options.convention)[0]:
        return False
    try:
        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape  # the header only
    except Exception:  # it loaded a moment ago; anything odd now just means no hint
        return False
    if len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]
    return len(shape) == 2 and shape[0] != model.num_mels and shape[1] == model.num_mels
