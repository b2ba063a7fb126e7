"""`hifigan vocode`'s options for its .npy inputs (--strict-mel, --mel-convention, --mel-stats, --mel-db-ref): declared,
read into the MelInput that hifigan.melconv.vocode_input reads mels with, and warned of where they do nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import Amount
from hifigan.melconv.vocode_input import MelInput, warn_unused_options
from hifigan.messages.plural import agree

MEL_INPUT_OPTIONS = ("strict_mel", "mel_convention", "mel_stats", "mel_db_ref")  # dests of add_mel_input_options


def add_mel_input_options(p: argparse.ArgumentParser) -> None:
    """How `vocode` reads .npy mels (melconv.vocode_input.MelInput); each only matters for .npy inputs, which
    MEL_INPUT_OPTIONS lists for the warning where every input is audio."""
    p.add_argument("--strict-mel", action="store_true",
                   help="a .npy input that does not look like the model's mel is an error (before anything is "
                   "written) instead of a warning (.npy inputs only)")
    p.add_argument("--mel-convention", default=None, metavar="NAME",
                   help="the convention of the .npy inputs, converted to the model's where the map is exact: "
                   "official, log10, ln-power, log10-power, db, db-ref, ln-floor, linear-magnitude, linear-power, "
                   "meanstd, minmax01, minmax4, optionally with 'transposed+' (see docs/sample-rates.md; `hifigan "
                   "check-mel` names it). Default: the model's own (its config's mel_convention), no conversion. "
                   ".npy inputs only: audio inputs are turned into the model's own mel")
    p.add_argument("--mel-stats", type=Path, default=None, metavar="FILE",
                   help="for meanstd/minmax: the statistics of the inputs' normalisation: our .npz (per-bin 'mean' "
                   "and 'std' or 'min' and 'max', optional 'convention', default official), Parallel WaveGAN's "
                   "stats.h5 or stats.npy (log10), ESPnet2's feats_stats.npz. Default: the model's own (.npy "
                   "inputs only)")
    p.add_argument("--mel-db-ref", type=Amount(0, low_open=True), default=None, metavar="REF",
                   help="for db-ref: the reference amplitude the dB values are relative to, a number > 0 (.npy inputs "
                   "only)")


def mel_input_from(args: argparse.Namespace) -> MelInput:
    """How the .npy inputs are read, as these options say."""
    return MelInput(args.mel_convention, args.mel_stats, args.mel_db_ref, args.strict_mel)


def warn_unused_mel_input_options(args: argparse.Namespace) -> None:
    """The options that describe .npy inputs (MEL_INPUT_OPTIONS) have no effect where every input is audio (copy
    synthesis computes the model's own mel): one warning naming those given, instead of ignoring them silently."""
    import warnings

    if any(path.suffix.lower() == ".npy" for path in args.inputs):
        warn_unused_options(mel_input_from(args))
        return
    given = [f"--{dest.replace('_', '-')}" for dest in MEL_INPUT_OPTIONS
             if getattr(args, dest) != args.subparser.get_default(dest)]
    if given:
        warnings.warn(f"{', '.join(given)} {agree(len(given), 'applies', 'apply')} to .npy inputs only, and every "
                      "input is audio (copy synthesis computes the model's own mel): ignored", stacklevel=2)
