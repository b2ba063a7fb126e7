"""`hifigan listen`: the command's options for a MOS listening test in the browser and its report (the library is
evaluation.listening.serve)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import (
    Amount,
    Count,
    add_address,
    add_command,
    add_out,
    say_wrote,
)
from hifigan.cli.comparison import add_reference, add_subset, add_systems
from hifigan.cli.old_spellings import add_old_spelling
from hifigan.errors import HifiganError


def add_listen(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "listen", run_listen,
        help="run a MOS listening test in the browser, and score it as the paper's Table 1",
        description="Serve a MOS test (5-point absolute category rating, as in the paper) on a local web server. "
        "Raters enter a name and hear every system's version of every clip, the recordings included as a hidden "
        "reference, in a seeded random order of their own; each clip must be played to the end before it can be "
        "rated; a rater can stop and continue later under the same name. Ratings are saved in OUT/study.sqlite "
        "(one transaction per rating). --report STUDY writes the MOS with 95% CIs per system (Markdown and JSON). "
        "Serving needs the 'listen' extra (flask, waitress); --report does not.",
        epilog="examples:\n"
        "  hifigan listen --reference runs/demo/reference --system start=runs/demo/start "
        "--system end=runs/demo/generated -o studies/demo\n"
        "  hifigan listen -o studies/demo --port 8080       # continue the study\n"
        "  hifigan listen --report studies/demo --screen-reference-below 4",
    )
    add_reference(p, required=False)
    add_systems(p, "a system to rate: a folder with a file of the same stem for every recording (repeat)",
                required=False)
    add_subset(p, "the study keeps the choice: continuing it takes no --subset")
    add_out(p, "study folder: created, or continued if it exists", required=False, metavar="STUDY")
    add_address(p)
    threads = p.add_argument("--server-threads", type=Count(1), default=8, metavar="N",
                             help="web server threads: raters' requests answered at once (default 8)")
    add_old_spelling(p, "--threads", threads)  # every other command's --threads is torch's (common.add_threads)
    p.add_argument("--seed", type=Count(0), default=None, metavar="N",
                   help="seed of the raters' orders (default 0), fixed when the study is created: continuing a study "
                   "with another is a warning")
    p.add_argument("--report", type=Path, metavar="STUDY",
                   help="do not serve: print the MOS table and write STUDY/mos.md and STUDY/mos.json")
    p.add_argument("--screen-reference-below", type=Amount(1, 5), default=None, metavar="SCORE",
                   help="leave out raters whose mean score of the hidden reference is below SCORE (e.g. 4)")


def run_listen(args: argparse.Namespace) -> int:
    """--report STUDY, or serve --out STUDY (created from --reference and --system when new)."""
    from hifigan.evaluation.listening.serve import check_screen, report_study, serve_study
    from hifigan.evaluation.report.names import parse_systems

    check_screen(args.screen_reference_below)
    if args.report is not None:
        if args.out is not None or args.reference is not None or args.system or args.subset:
            raise HifiganError(None, "--report takes the study folder alone (no --out, --reference, --system or "
                                     "--subset)")
        table, md, js = report_study(args.report, args.screen_reference_below)
        print(table)
        say_wrote(args, md, js)
        return 0
    if args.out is None:
        raise HifiganError(None, "give --out STUDY (a new or an existing study folder), or --report STUDY")
    systems = parse_systems(args.system or [])
    serve_study(args.out, args.reference, systems, args.seed, args.host, args.port, args.server_threads,
                args.screen_reference_below, subset=args.subset)
    return 0
