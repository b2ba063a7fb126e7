"""`hifigan demo`: the command's options (train a small model on a corpus for a few minutes and write what it
learned); its library is hifigan.demo.run."""

from __future__ import annotations

import argparse

from hifigan.cli.common import (
    Amount,
    Count,
    add_command,
    add_device,
    add_no_progress,
    add_out,
    add_threads,
    say_wrote,
    shows_progress,
)
from hifigan.cli.model_source import CONFIG_FORMS
from hifigan.cli.old_spellings import add_old_spelling
from hifigan.cli.training_options import add_corpus, add_seed, add_segment_size
from hifigan.demo import VALID_COUNT_WHY
from hifigan.training.options import LEAST


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "demo", run_demo_command,
        help="train a small model on the bundled clips for a few minutes and show the result",
        description="Train on a corpus folder for a bounded time (mostly generator-only on the mel loss, then "
        "the full GAN), vocode the held-out clips before and after, and write OUT/generated/<clip>.wav, "
        "OUT/start/<clip>.wav (before training) and OUT/reference/<clip>.wav, OUT/<clip>_mel.png (ground truth and "
        "generated mel), OUT/results.md and results.json (every evaluate metric at the start and the end), "
        "OUT/evaluation.json and .png (the end state's report), OUT/evaluation.html (listen to the recordings and "
        "the clips at the start and the end side by side), and the run (OUT/run: checkpoint, TensorBoard logs; "
        "train --resume OUT/run continues it). Everything is at the config's rate: a corpus at another rate is "
        "resampled to it, and the pretrained models at another rate or mel hear the clips resampled to theirs. "
        "Needs the 'eval' extra (PESQ, STOI).",
        epilog="example: hifigan demo --corpus data/ljspeech-mini -o runs/demo --budget-minutes 9",
    )
    add_corpus(p)
    add_out(p, "output folder (created once the corpus and options have been checked)", metavar="DIR")
    budget = p.add_argument("--budget-minutes", type=Amount(0, low_open=True), default=9.0, metavar="MINUTES",
                            help="the whole demo's time, a budget the training is planned to fill, leaving the time "
                            "to vocode and score the held-out clips (default 9); not train's --max-minutes, a stop "
                            "rule")
    add_old_spelling(p, "--minutes", budget)
    p.add_argument("--config", default="v3",
                   help=f"model config, at any rate: {CONFIG_FORMS} (default v3, the smallest official one)")
    p.add_argument("--batch-size", type=Count(LEAST["batch_size"]), default=4, metavar="N",
                   help="clips per step (default 4)")
    add_segment_size(p)
    p.add_argument("--valid-count", type=Count(1, why=VALID_COUNT_WHY), default=3, metavar="N",
                   help="held-out clips (default 3)")
    p.add_argument("--gan-fraction", type=Amount(0, 1), default=0.15, metavar="FRACTION",
                   help="share of the training time with the discriminators on (default 0.15)")
    add_seed(p)
    add_device(p)
    add_threads(p)
    add_no_progress(p)


def run_demo_command(args: argparse.Namespace) -> int:
    from hifigan.demo.run import run_demo
    from hifigan.evaluation.metrics import require_packages

    require_packages(None)  # the demo scores every metric: without the 'eval' extra it fails before any work
    run_demo(args.corpus, args.out, minutes=args.budget_minutes, config=args.config, batch_size=args.batch_size,
             segment_size=args.segment_size, valid_count=args.valid_count, gan_fraction=args.gan_fraction,
             seed=args.seed, device=args.device, progress=shows_progress(args), quiet=args.quiet)
    say_wrote(args, args.out)
    return 0
