"""The .npy inputs of `hifigan vocode`: its mel options (--strict-mel, --mel-convention, ...), the conversion
to the official mel, and the check before anything is written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hifigan.errors import HifiganError, MelError
from hifigan.melconv.conventions import MelStats, parse_convention, to_official
from hifigan.melconv.detect import detect


def add_vocode_options(p: argparse.ArgumentParser) -> None:
    """The mel-convention options of `vocode`."""
    p.add_argument("--strict-mel", action="store_true",
                   help="a .npy input that does not look like the official mel is an error (before anything is "
                   "written) instead of a warning")
    p.add_argument("--mel-convention", default="official", metavar="NAME",
                   help="convert .npy inputs from this convention first, where the map is exact: log10, ln-power, "
                   "log10-power, db, db-ref, ln-floor, linear-magnitude, linear-power, meanstd, minmax01, minmax4, "
                   "optionally with 'transposed+' (see the README's table; `hifigan check-mel` names it)")
    p.add_argument("--mel-stats", type=Path, default=None, metavar="FILE",
                   help="for meanstd/minmax: .npz with per-bin 'mean' and 'std' or 'min' and 'max' "
                   "(optional 'convention': the log convention that was normalised, default official)")
    p.add_argument("--mel-db-ref", type=float, default=None, metavar="REF",
                   help="for db-ref: the reference amplitude the dB values are relative to")


def _stats(args: argparse.Namespace, num_mels: int) -> MelStats | None:
    if args.mel_stats is None:
        return None
    from hifigan.melconv.stats import load_stats

    return load_stats(args.mel_stats, num_mels)


def load_vocode_mel(path: Path, num_mels: int, args: argparse.Namespace) -> np.ndarray:
    """A .npy input as the official float32 [num_mels, T]: converted from --mel-convention where asked."""
    from hifigan.audio import load_mel

    try:
        transposed, name = parse_convention(args.mel_convention)
    except ValueError as e:
        raise HifiganError(None, str(e)) from None
    mel = load_mel(path, num_mels, transposed=transposed)
    if name == "official":
        return mel
    try:
        official = to_official(mel, name, _stats(args, num_mels), args.mel_db_ref)
    except ValueError as e:
        raise MelError(path, str(e)) from None
    return official.astype(np.float32)


def check_vocode_mel(path: Path, num_mels: int, args: argparse.Namespace) -> None:
    """Load, convert and check a .npy input before anything is written: warn (or fail with --strict-mel)."""
    try:
        mel = load_vocode_mel(path, num_mels, args)
    except MelError as e:
        if "bins, the model expects" in e.problem:
            raise MelError(path, f"{e.problem} (a [frames, {num_mels}] mel? try --mel-convention transposed, "
                           "or run hifigan check-mel)") from None
        raise
    verdict = detect(mel, num_mels)
    if verdict.official:
        return
    message = f"does not look like the official mel: {verdict.line()}"
    if args.strict_mel:
        raise MelError(path, message + " (--strict-mel)")
    print(f"hifigan vocode: warning: {path}: {message}", file=sys.stderr)
