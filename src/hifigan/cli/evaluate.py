"""`hifigan evaluate`: the command's options (objective metrics of generated audio against the recordings, tables
and reports); its library is hifigan.evaluation.evaluate (evaluate_pairs), for several systems and the page
hifigan.evaluation.report.systems."""

from __future__ import annotations

import argparse

from hifigan.cli.common import (
    Count,
    add_audio_options,
    add_command,
    add_no_progress,
    add_out,
    say_wrote,
    shows_progress,
)
from hifigan.cli.comparison import add_reference, add_subset, add_systems
from hifigan.cli.lists import add_list
from hifigan.cli.model_source import add_model_source, config_file, model_config
from hifigan.cli.overwrites import refuse_overwriting


def add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "evaluate", run_evaluate,
        help="objective metrics of generated audio against the recordings",
        description="Pair the audio files of --reference and each --system by stem and measure how close each "
        "generated file is to its recording: mel L1 (the paper's validation error), multi-resolution STFT "
        "distance, mel-cepstral distortion, log-spectral distance, SNR, PESQ (wide-band; narrow-band below 16 kHz), "
        "STOI, ESTOI, F0 RMSE (cents), V/UV F1 and periodicity RMSE (pYIN), at the recordings' rate. Prints a "
        "table of means with 95% confidence intervals; with --out also writes a JSON report (per-file values) and "
        "a PNG (distributions, one spectrogram pair). Every folder and file is read and checked first: any problem "
        "(a folder missing or with its audio in subfolders, two files of one stem, no preset at the recordings' "
        "rate, unpaired, another rate, stereo, NaN, truncated, lengths more than a hop apart) fails the run, all "
        "listed in one line, before anything is written.",
        epilog="examples:\n"
        "  hifigan evaluate --reference data/ljspeech-mini --system out/ -o reports/v1\n"
        "  hifigan evaluate --reference LJSpeech-1.1/wavs --system test-set/ --subset -o reports/test\n"
        "  hifigan evaluate --reference wavs24k/ --system out/ -c runs/24k/checkpoints/latest.pt -o reports/24k\n"
        "  hifigan evaluate --reference runs/demo/reference --system start=runs/demo/start "
        "--system end=runs/demo/generated -o reports/demo/ --html",
    )
    add_reference(p)
    add_systems(p, "a folder of generated audio with the recordings' stems; repeat it to compare systems (each gets "
                "its own table and OUT-NAME.json/.png)", old_option="--generated")
    add_subset(p)
    add_out(p, "report folder, an existing one or one ending in / (writes evaluation.json/.png), or a prefix "
            "(PREFIX.json/.png)", required=False, kind=str)
    p.add_argument("--html", action="store_true",
                   help="also write OUT.html (evaluation.html in a folder): one page to listen to every clip of the "
                   "recordings and every system side by side, with log-mel images, metrics and the summary")
    p.add_argument("--html-audio", default="embed", choices=["embed", "link"],
                   help="embed: the audio inside the page, one self-contained file; link: the page plays the audio "
                   "files by relative path, for evaluations too large to embed (default embed)")
    add_model_source(p, "measure with the mel of", "default: the preset at the recordings' rate where the presets "
                     "there share one mel, 22050 Hz: v1; otherwise a model or config must be given")
    add_list(p, "--metrics", "only these metrics, comma-separated (mel_l1,snr), of mel_l1, mrstft, mcd, lsd, snr, "
             "pesq, stoi, estoi, f0_rmse_cents, vuv_f1, periodicity_rmse (default: all; pesq, stoi and estoi need the "
             "'eval' extra)", old_spaced="+")
    p.add_argument("--max-shift", type=Count(0), default=0, metavar="SAMPLES",
                   help="remove a delay of up to this many samples by cross-correlation before measuring "
                   "(default 0: measure as-is)")
    p.add_argument("--max-length-difference", type=Count(0), default=None, metavar="SAMPLES",
                   help="trim lengths that differ by up to this many samples to the shorter (default: one hop, what "
                   "copy synthesis produces); for generated audio aligned with its recording at the start, such as "
                   "from an acoustic model's mels of ground-truth durations")
    p.add_argument("--per-file", action="store_true", help="also print one table row per file")
    add_audio_options(p)
    add_no_progress(p)


def run_evaluate(args: argparse.Namespace) -> int:
    from hifigan.evaluation.inputs import check_inputs
    from hifigan.evaluation.metrics import measured_lines, require_packages
    from hifigan.evaluation.report.names import parse_systems
    from hifigan.evaluation.report.systems import check_page_options, evaluate_systems, output_paths

    require_packages(args.metrics)  # PESQ, STOI, ESTOI: the 'eval' extra
    systems = parse_systems(args.system)
    check_page_options(args.out, args.html, args.html_audio)
    if args.out is not None:  # the reports and the page: never the --config file read to measure them
        reports_json, page = output_paths(args.out, list(systems), create=False)
        planned = [p for j in reports_json.values() for p in (j, j.with_suffix(".png"))] + ([page] if args.html else [])
        refuse_overwriting(planned, [("config (--config)", config_file(args.config)),
                                     ("checkpoint (-c)", args.checkpoint)])
    model = (f"checkpoint {args.checkpoint}" if args.checkpoint is not None else
             f"pretrained {args.pretrained}" if args.pretrained is not None else None)
    inputs = check_inputs(args.reference, systems, args.config if model is None else model_config(args),
                          resample=args.resample, mix_to_mono=args.mix_to_mono, max_shift=args.max_shift,
                          metrics=args.metrics, max_length_difference=args.max_length_difference,
                          subset=bool(args.subset), model=model, cli=True)
    config, name = inputs.config, inputs.config_name
    reports, page = evaluate_systems(args.reference, inputs.pairs, config, args.out, html=args.html,
                                     html_audio=args.html_audio, metrics=args.metrics, resample=args.resample,
                                     mix_to_mono=args.mix_to_mono, max_shift=args.max_shift, config_name=name,
                                     max_length_difference=args.max_length_difference, subset_of=inputs.subset_of,
                                     progress=shows_progress(args), cli=True)
    chosen = " (the preset at the recordings' rate; --config chooses)" if args.config is None else ""
    if note := next(iter(reports.values())).subset_note():
        print(note)
    print("\n".join(measured_lines(config.sampling_rate, model or f"config {name}{chosen}", args.metrics)))
    for system, report in reports.items():
        if len(reports) > 1:
            print(f"\n== {system} ({systems[system]})")
        print(report.format_table(per_file=args.per_file))
    if args.out is not None:
        reports_json = output_paths(args.out, list(systems))[0].values()
        say_wrote(args, *(p for j in reports_json for p in (j, j.with_suffix(".png"))), *([page] if page else []))
    return 0

