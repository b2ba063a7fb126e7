"""`hifigan check-mel`: whether .npy mels follow the official convention, and which one they follow."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import add_command


def add_check_mel(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "check-mel", run_check_mel,
        help="say whether .npy mels follow the official convention, and which one they follow",
        description="Check each MEL against the official convention (natural log of the Slaney mel magnitude, floor "
        "ln(1e-5)) from its values alone: floor, range, spread and dynamics. Prints one line per file: the "
        "likely convention, a confidence, the evidence and the vocode option that converts it. Exit 0 when "
        "every file looks official, 1 when any does not, 2 on bad input.",
        epilog="example: hifigan check-mel mels/*.npy",
    )
    p.add_argument("mels", nargs="+", type=Path, metavar="MEL", help=".npy mel files")
    p.add_argument("--num-mels", type=int, default=80, help="mel bins the model expects (default 80)")


def run_check_mel(args: argparse.Namespace) -> int:
    from hifigan.melconv.detect import detect_file

    verdicts = [(path, detect_file(path, args.num_mels)) for path in args.mels]  # bad input: exit 2 first
    for path, verdict in verdicts:
        print(f"{path}: {'official' if verdict.official else 'NOT official'}: {verdict.line()}")
    return 0 if all(v.official for _, v in verdicts) else 1
