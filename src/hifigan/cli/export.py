"""`hifigan export` (ONNX / TorchScript generator) and `hifigan export-official` (official g_*/do_* files): the
commands' options; their libraries are hifigan.inference.export and hifigan.checkpoints.export_official."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.atomic import prepare_output_dir
from hifigan.cli.common import add_command, add_generator_source, check_output_file, generator_from_args


def add_export(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "export", run_export,
        help="export a generator to ONNX or TorchScript for deployment",
        description="Write the inference generator (weight norm and the MRF mean folded into the weights; a "
        "generator without a layer description: the module itself, traced) as ONNX or TorchScript. Input 'mel' "
        "float32 [batch, num_mels, frames], output 'audio' float32 [batch, 1, frames * hop]; batch and frames are "
        "dynamic.",
        epilog="examples:\n"
        "  hifigan export --pretrained lj-v1 --format onnx lj_v1.onnx\n"
        "  hifigan export --checkpoint g_02500000 --config v1 --format onnx hifigan_v1.onnx\n"
        "  hifigan export --checkpoint runs/demo/run/checkpoints/latest.pt --format torchscript gen.pt",
    )
    p.add_argument("output", type=Path, help="output file")
    add_generator_source(p)
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"],
                   help="output format (onnx needs the 'onnx' extra)")


def run_export(args: argparse.Namespace) -> int:
    from hifigan.inference.export import export_generator, require_format
    from hifigan.models.generators import fold_norms

    require_format(args.format)
    check_output_file(args.output)
    generator, config = generator_from_args(args)
    export_generator(fold_norms(generator.eval()), args.format, args.output, config.num_mels)
    print(args.output)
    return 0


def add_export_official(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "export-official", run_export_official,
        help="write a training checkpoint as official g_*/do_* files",
        description="Convert one of our checkpoints to the official jik876/hifi-gan files: g_<steps> "
        "({'generator': ...}) and, when it holds discriminators, do_<steps> (mpd, msd, optim_g, optim_d, steps, "
        "epoch), which the official train.py resumes from and its inference loads.",
        epilog="example: hifigan export-official --checkpoint runs/v1/checkpoints/latest.pt --out cp_export/",
    )
    p.add_argument("--checkpoint", "-c", required=True, type=Path, help="our checkpoint (.pt)")
    p.add_argument("--out", "-o", required=True, type=Path, help="output folder (created)")


def run_export_official(args: argparse.Namespace) -> int:
    from hifigan.checkpoints.export_official import export_official

    prepare_output_dir(args.out)
    for path in export_official(args.checkpoint, args.out):
        print(path)
    return 0
