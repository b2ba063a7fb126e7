"""`hifigan bench`: the command's options for x-real-time and peak memory of every inference backend, in one
process; its library is hifigan.inference.bench."""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

from hifigan.cli.common import (
    Amount,
    Count,
    add_command,
    add_device,
    add_out,
    add_threads,
    check_output_file,
    require_suffix,
    say_wrote,
)
from hifigan.cli.lists import add_list
from hifigan.cli.model_source import CONFIG_FORMS, config_file
from hifigan.cli.overwrites import refuse_overwriting
from hifigan.errors import HifiganError
from hifigan.inference.choices import bench_entry, device_backends


def add_bench(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "bench", run_bench_command,
        help="measure x-real-time and peak memory of every inference backend",
        description="Vocode one random mel with random weights (the same for all) on every backend and on the plain "
        "eager generator (weight norm removed, inference_mode), interleaved and repeated in one process; report "
        "the median x-real-time, speedup over eager, peak RSS (one subprocess per backend), output difference "
        "and streaming latency. Timings need an otherwise idle machine. --pretrained NAME times a registered "
        "model's real weights instead.",
        epilog="examples:\n"
        "  hifigan bench --config v1 --seconds 10 -o benchmarks/results/v1.json\n"
        "  hifigan bench --pretrained lj-v1 --seconds 10\n"
        "  hifigan bench --presets --seconds 3 --backends eager,tiled-split -o benchmarks/results/presets.json",
    )
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--config", default=None,
                         help=f"{CONFIG_FORMS}, random weights (default v1)")
    weights.add_argument("--pretrained", metavar="NAME", default=None,
                         help="the real weights of a registered model (lj-v1, universal-v1) and its config")
    add_list(weights, "--presets", "one row per preset, those named, comma-separated (given alone: every preset; "
             "hifigan configs lists them): eager and the fastest of --backends, at the preset's own rate and hop, "
             "random weights, no memory runs", old_spaced="*")
    p.add_argument("--seconds", type=Amount(0, low_open=True), default=10.0, metavar="S",
                   help="audio length to vocode (default 10 s)")
    p.add_argument("--repeats", type=Count(1), default=5, metavar="N", help="timed runs per backend (default 5)")
    add_threads(p, default=2, note="onnxruntime's too, and the split backends' workers: the backends are timed with "
                "it")
    add_list(p, "--backends", "the backends to time, comma-separated, each BACKEND or BACKEND:PRECISION (fused:bf16; "
             f"default: every backend that runs on --device, fp32: {','.join(device_backends('cpu'))} on the CPU, "
             f"{','.join(device_backends('cuda'))} on CUDA); eager (fp32) is the baseline", metavar="BACKENDS")
    add_device(p, "with cuda, times include the copy back to the CPU")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the per-backend fresh subprocesses (peak memory and solo timing)")
    p.add_argument("--stream-chunk-frames", type=Count(1), default=32, metavar="FRAMES",
                   help="mel frames per chunk for the streaming timing (default 32)")
    p.add_argument("--stream-memory-minutes", type=Amount(0, why=" (0: skip)"), default=0.0, metavar="MINUTES",
                   help="also measure peak RSS of streaming a mel this many minutes long (default 0: skip)")
    add_out(p, "also write the results to this JSON file (a name ending in .json)", required=False,
            old_option="--json", metavar="JSON", kind=str)  # str: a trailing separator (a folder) is seen, refused


def run_bench_command(args: argparse.Namespace) -> int:
    from hifigan.inference.bench import run_bench
    from hifigan.inference.bench_table import format_table
    from hifigan.inference.engines import require_backend, resolve_backend
    from hifigan.runtime.devices import resolve_device
    from hifigan.runtime.extras import MissingExtraError

    device = resolve_device(args.device, cli=True)
    if args.presets is not None and device.type != "cpu":
        raise HifiganError(None, "--presets times the CPU backends: leave --device out")
    named = []
    for entry in args.backends if args.backends is not None else device_backends(device.type):
        try:
            backend, precision = bench_entry(entry)
        except ValueError as e:
            raise HifiganError(None, f"--backends: {e}") from None
        try:
            with warnings.catch_warnings():  # an emulated half precision: the run says so, once, before timing
                warnings.simplefilter("ignore")
                resolve_backend(backend, device, precision, cli=True)
        except HifiganError as e:
            raise HifiganError(None, f"--backends: {e.problem}") from None
        try:
            require_backend(backend)
        except MissingExtraError as e:
            raise MissingExtraError(None, f"{e.problem} (or leave {backend} out of --backends)") from None
        named.append(backend if precision == "fp32" else entry)  # eager:fp32 is eager, the baseline
    backends = tuple(dict.fromkeys(named))
    if "eager" not in backends:
        raise HifiganError(None, "--backends: include eager (fp32), the baseline")
    _check_model(args)  # before the output folder is made
    if args.out is not None:
        if args.out.endswith(("/", os.sep)):
            raise HifiganError(args.out, "names a folder; -o is the JSON file to write")
        require_suffix(args.out, ".json", "bench", "a JSON file")
        args.out = Path(args.out)
        refuse_overwriting([args.out], [("config (--config)", config_file(args.config))])
        check_output_file(args.out)
    if args.presets is not None:
        result, table = _bench_presets(args, backends)
    else:
        result = run_bench(args.config or "v1", args.seconds, args.repeats, backends, args.threads,
                           not args.no_memory, args.stream_chunk_frames, args.stream_memory_minutes,
                           pretrained=args.pretrained, device=str(device))
        table = format_table(result)
    print(table)
    if args.out is not None:
        import json

        from hifigan.files.atomic import atomic_path

        with atomic_path(args.out) as tmp:
            tmp.write_text(json.dumps(result, indent=2) + "\n")
        say_wrote(args, args.out)
    return 0


def _check_model(args: argparse.Namespace) -> None:
    """The config, or the pretrained model's registration, install and sha256: one line if bad, before any work."""
    from hifigan import pretrained
    from hifigan.config import load_config, load_preset
    from hifigan.config.files import preset_names

    if args.pretrained is not None:
        pretrained.read_verified(pretrained.get_model(args.pretrained))
    elif args.presets is None:
        load_config(args.config or "v1")
    for name in args.presets or []:
        if name not in preset_names():
            raise HifiganError(None, f"--presets: no preset {name!r} (presets: {', '.join(preset_names())})")
        load_preset(name)


def _bench_presets(args: argparse.Namespace, backends: tuple[str, ...]) -> tuple[dict, str]:
    """--presets: one row per preset (each checked by name before: _check_model); the result and its table."""
    from hifigan.config.files import preset_names
    from hifigan.inference.bench_presets import format_preset_table, run_preset_bench

    names = args.presets or preset_names()
    result = run_preset_bench(names, args.seconds, args.repeats, backends, args.threads)
    return result, format_preset_table(result)
