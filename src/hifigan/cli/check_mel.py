"""`hifigan check-mel`: whether .npy mels follow a model's mel convention, and which one they follow."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.common import Count, add_command
from hifigan.cli.input_paths import expand_inputs, given_twice
from hifigan.cli.model_source import add_model_source, model_config
from hifigan.errors import LISTED_AT_MOST, HifiganError, MelBinsError, bad_inputs
from hifigan.messages.plural import agree, count

if TYPE_CHECKING:
    from hifigan.melconv.verdict import MelVerdict


def add_check_mel(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "check-mel", run_check_mel,
        help="say whether .npy mels follow a model's mel convention, and which one they follow",
        description="Check each MEL against a model's mel convention (by default the official one: natural log "
        "of the Slaney mel magnitude, floor ln(1e-5); with --config, --checkpoint or --pretrained, that model's "
        "mel_convention, floor, bins and normalisation) from its values alone: floor, range, spread and dynamics. "
        "Prints one line per file: the model's convention, rate and hop, the likely convention of the file, a "
        "confidence, the evidence and the vocode option that converts it; of several files, a last line counts "
        "them: how many fit, how many of each other convention, the --mel-convention that converts the most of "
        "those (--quiet: no last line). A folder MEL gives its .npy files anywhere below, as mel and vocode read "
        "one; a folder of none, and a file given twice, are refused before any file is judged. Values cannot show "
        "the sampling rate, hop, window or filterbank: a mel of the right convention made at another rate passes, "
        "so check those against the line. Every file gets its line, one that is not a mel at all too; the exit "
        "status is the worst: 0 when every file looks like the model's, 1 when any does not, 2 when any is bad "
        "input.",
        epilog="examples:\n"
        "  hifigan check-mel mels/*.npy\n"
        "  hifigan check-mel gta_mels/             # every .npy below it, and the counts\n"
        "  hifigan check-mel --config pwg-24k espnet-mels/*.npy\n"
        "  hifigan check-mel --checkpoint runs/pwg/checkpoints/latest.pt mels/*.npy",
    )
    p.add_argument("mels", nargs="+", type=Path, metavar="MEL",
                   help=".npy mel files, or folders: their .npy files anywhere below (as mel and vocode read one)")
    add_model_source(p, "judge against", "default v1: the official convention")
    p.add_argument("--num-mels", type=Count(1), default=None, metavar="N", help="mel bins (default: the model's)")


def run_check_mel(args: argparse.Namespace) -> int:
    import dataclasses

    from hifigan.melconv.detect import detect_file
    from hifigan.melconv.model import ModelMel

    inputs = expand_inputs(args.mels, (".npy",), "mel")  # a folder: its .npy files, as mel and vocode read one
    # A folder of no .npy file and a file given twice are wrong arguments: refused before any file is judged.
    problems = [*inputs.problems, *(e for e in given_twice(inputs.files) if e is not None)]
    try:
        model = ModelMel.of(model_config(args))
    except HifiganError as e:  # named with the wrong arguments
        raise (bad_inputs([e, *problems], inputs.total + 1) if problems else e) from None
    if problems:
        raise bad_inputs(problems, inputs.total)
    against = model.named(rate=True)
    if args.num_mels is not None:
        if model.stats is not None and args.num_mels != model.num_mels:
            raise HifiganError(None, f"--num-mels {args.num_mels}: the model normalises {model.num_mels} bins")
        if args.num_mels != model.num_mels:  # its convention, not its input: vocode refuses the bins
            against += f" at {count(args.num_mels, 'bin')} (the model takes {model.num_mels})"
        model = dataclasses.replace(model, num_mels=args.num_mels)
    verdicts, bad = [], []
    for path in inputs.files:  # a verdict for every file, the bad ones included; the exit status is the worst
        try:
            verdict = detect_file(path, model.num_mels, model)
        except HifiganError as e:
            print(f"{path}: cannot be judged: {e.problem}{_default_model_hint(e, args)}")
            bad.append(str(path))
            continue
        fits = "fits" if verdict.matches else "does NOT fit"
        print(f"{path}: {fits} {against}: {verdict.line()}")
        verdicts.append(verdict)
    if len(inputs.files) > 1 and not args.quiet:
        print(summary(against, verdicts, len(bad)))
    if bad:  # the first LISTED_AT_MOST named, as bad_inputs names them: 13 000 paths would not be one line
        more = f" and {len(bad) - LISTED_AT_MOST} more (each one's line says why)" if len(bad) > LISTED_AT_MOST else ""
        raise HifiganError(None, f"{len(bad)} of {count(len(inputs.files), 'file')} "
                                 f"{agree(len(bad), 'is not a mel', 'are not mels')} it can judge: "
                                 f"{', '.join(bad[:LISTED_AT_MOST])}{more}")
    return 0 if all(v.matches for v in verdicts) else 1


def _default_model_hint(error: HifiganError, args: argparse.Namespace) -> str:
    """Where a mel's bins are not those of the default model (v1, no model named), the options that name the one
    the mels are for (a 24 kHz model's 100 bins are judged against v1's 80 otherwise)."""
    named = (args.checkpoint, args.pretrained, args.config, args.num_mels)
    if not isinstance(error, MelBinsError) or any(option is not None for option in named):
        return ""
    return " (judged against the default model, v1: name the mels' model with -c CKPT, --pretrained NAME or --config)"


def summary(against: str, verdicts: list[MelVerdict], unjudged: int) -> str:
    """The last line over many files: how many fit the model's mel (`against`, as each line names it); of the others,
    how many of each convention, and the --mel-convention that converts the most of them; how many are no mel it
    can judge."""
    misfits = [v for v in verdicts if not v.matches]
    fit = len(verdicts) - len(misfits)
    judged = [f"{fit} {agree(fit, 'fits', 'fit')}"]
    if misfits:
        conventions = ", ".join(f"{n} {name}" for name, n in Counter(v.name for v in misfits).most_common())
        judged.append(f"{len(misfits)} {agree(len(misfits), 'does', 'do')} not: {conventions}")
        most = commonest_option(misfits)
        judged.append(f"{most[0]} converts the most ({most[1]} of {len(misfits)})" if most
                      else "no --mel-convention converts them")
    if unjudged:
        judged.append(f"{unjudged} {agree(unjudged, 'is not a mel', 'are not mels')} it can judge")
    total = len(verdicts) + unjudged
    return f"checked {count(total, 'file')} against {against}: {'; '.join(judged)}"


def commonest_option(misfits: list[MelVerdict]) -> tuple[str, int] | None:
    """The --mel-convention that converts the most of `misfits`, and how many (None: none converts any). A tie goes
    to the model's own convention (only the layout differs), then to an exact map over db's (its values cannot tell
    a magnitude's dB from a power's), then to the more confident verdicts (their mean), then to the option first by
    name: never to the files' order."""
    files: dict[str, list[MelVerdict]] = {}
    for verdict in misfits:
        if verdict.option.startswith("--mel-convention"):
            files.setdefault(verdict.option, []).append(verdict)

    def rank(option: str) -> tuple:
        verdicts = files[option]
        first = verdicts[0]  # one option, one convention
        confidence = sum(v.confidence for v in verdicts) / len(verdicts)
        return -len(verdicts), first.convention not in first.expected, first.convention == "db", -confidence, option

    if not files:
        return None
    option = min(files, key=rank)
    return option, len(files[option])
