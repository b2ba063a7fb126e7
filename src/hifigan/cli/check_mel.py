"""`hifigan check-mel`: whether .npy mels follow a model's mel convention, and which one they follow."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import add_command, add_model_source, model_config, option_errors
from hifigan.errors import HifiganError
from hifigan.plural import agree, count


def add_check_mel(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "check-mel", run_check_mel,
        help="say whether .npy mels follow a model's mel convention, and which one they follow",
        description="Check each MEL against a model's mel convention (by default the official one: natural log "
        "of the Slaney mel magnitude, floor ln(1e-5); with --config, --checkpoint or --pretrained, that model's "
        "mel_convention, floor, bins and normalisation) from its values alone: floor, range, spread and dynamics. "
        "Prints one line per file: the model's convention, rate and hop, the likely convention of the file, a "
        "confidence, the evidence and the vocode option that converts it. Values cannot show the sampling rate, "
        "hop, window or filterbank: a mel of the right convention made at another rate passes, so check those "
        "against the line. Every file gets its line, one that is not a mel at all too; the exit status is the worst: 0 "
        "when every file looks like the model's, 1 when any does not, 2 when any is bad input.",
        epilog="examples:\n"
        "  hifigan check-mel mels/*.npy\n"
        "  hifigan check-mel --config pwg-24k espnet-mels/*.npy\n"
        "  hifigan check-mel --checkpoint runs/pwg/checkpoints/latest.pt mels/*.npy",
    )
    p.add_argument("mels", nargs="+", type=Path, metavar="MEL", help=".npy mel files")
    add_model_source(p, "judge against", "default v1: the official convention")
    p.add_argument("--num-mels", type=int, default=None, help="mel bins (default: the model's)")


def run_check_mel(args: argparse.Namespace) -> int:
    import dataclasses

    from hifigan.melconv.detect import detect_file
    from hifigan.melconv.model import ModelMel
    from hifigan.values import integer

    if args.num_mels is not None:  # an option's error, before any file is judged against it
        with option_errors():
            integer("--num-mels", args.num_mels, 1)
    model = ModelMel.of(model_config(args))
    if args.num_mels is not None:
        if model.stats is not None and args.num_mels != model.num_mels:
            raise HifiganError(None, f"--num-mels {args.num_mels}: the model normalises {model.num_mels} bins")
        model = dataclasses.replace(model, num_mels=args.num_mels)
    worst, bad = 0, []
    for path in args.mels:  # a verdict for every file, the bad ones included; the exit status is the worst
        try:
            verdict = detect_file(path, model.num_mels, model)
        except HifiganError as e:
            print(f"{path}: cannot be judged: {e.problem}")
            worst, bad = 2, [*bad, str(path)]
            continue
        fits = "fits" if verdict.matches else "does NOT fit"
        print(f"{path}: {fits} the model's mel ({model.describe()}): {verdict.line()}")
        worst = max(worst, 0 if verdict.matches else 1)
    if bad:
        raise HifiganError(None, f"{len(bad)} of {count(len(args.mels), 'file')} "
                                 f"{agree(len(bad), 'is not a mel', 'are not mels')} it can judge: {', '.join(bad)}")
    return worst
