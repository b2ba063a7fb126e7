"""The .npy inputs of `hifigan vocode`: its mel options (--strict-mel, --mel-convention, ...), the conversion
to the model's own mel convention, and the check before anything is written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hifigan.errors import HifiganError, MelError
from hifigan.melconv.conventions import MelStats, parse_convention
from hifigan.melconv.detect import detect
from hifigan.melconv.model import ModelMel


def add_vocode_options(p: argparse.ArgumentParser) -> None:
    """The mel-convention options of `vocode`."""
    p.add_argument("--strict-mel", action="store_true",
                   help="a .npy input that does not look like the model's mel is an error (before anything is "
                   "written) instead of a warning")
    p.add_argument("--mel-convention", default=None, metavar="NAME",
                   help="the convention of the .npy inputs, converted to the model's where the map is exact: "
                   "official, log10, ln-power, log10-power, db, db-ref, ln-floor, linear-magnitude, linear-power, "
                   "meanstd, minmax01, minmax4, optionally with 'transposed+' (see the README's table; `hifigan "
                   "check-mel` names it). Default: the model's own (its config's mel_convention), no conversion")
    p.add_argument("--mel-stats", type=Path, default=None, metavar="FILE",
                   help="for meanstd/minmax: the statistics of the inputs' normalisation: our .npz (per-bin 'mean' "
                   "and 'std' or 'min' and 'max', optional 'convention', default official), Parallel WaveGAN's "
                   "stats.h5 or stats.npy (log10), ESPnet2's feats_stats.npz. Default: the model's own")
    p.add_argument("--mel-db-ref", type=float, default=None, metavar="REF",
                   help="for db-ref: the reference amplitude the dB values are relative to")


def _stats(args: argparse.Namespace, num_mels: int) -> MelStats | None:
    if args.mel_stats is None:
        return None
    from hifigan.melconv.stats import load_stats

    return load_stats(args.mel_stats, num_mels)


def load_vocode_mel(path: Path, model: ModelMel, args: argparse.Namespace) -> np.ndarray:
    """A .npy input as the model's float32 [num_mels, T]: converted from --mel-convention where asked."""
    from hifigan.audio import load_mel

    try:
        transposed = args.mel_convention is not None and parse_convention(args.mel_convention)[0]
    except ValueError as e:
        raise HifiganError(None, str(e)) from None
    mel = load_mel(path, model.num_mels, transposed=transposed)
    if model.is_own(args.mel_convention):
        return mel
    try:
        converted = model.convert(mel, args.mel_convention, _stats(args, model.num_mels), args.mel_db_ref)
    except ValueError as e:
        raise MelError(path, str(e)) from None
    return converted.astype(np.float32)


def check_vocode_mel(path: Path, model: ModelMel, args: argparse.Namespace) -> None:
    """Load, convert and check a .npy input before anything is written: warn (or fail with --strict-mel) when it
    does not look like the model's mel."""
    try:
        mel = load_vocode_mel(path, model, args)
    except MelError as e:
        if "bins, the model expects" in e.problem:
            own = "meanstd" if model.stats is not None else model.convention
            option = "transposed" if own == "official" else f"transposed+{own}"
            raise MelError(path, f"{e.problem} (a [frames, {model.num_mels}] mel? try --mel-convention {option}, "
                           "or run hifigan check-mel)") from None
        raise
    verdict = detect(mel, model.num_mels, model)
    if verdict.matches:
        return
    message = f"does not look like the {model.label} mel: {verdict.line()}"
    if args.strict_mel:
        raise MelError(path, message + " (--strict-mel)")
    print(f"hifigan vocode: warning: {path}: {message}", file=sys.stderr)
