"""`hifigan vocode`: mels or audio to 16-bit WAV, every input checked before anything is written."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.common import (
    Count,
    add_audio_options,
    add_command,
    add_device,
    add_inference_options,
    add_no_progress,
    add_out,
    add_threads,
    progress,
    say_vocoded,
    shows_progress,
)
from hifigan.cli.input_paths import expand_inputs
from hifigan.cli.mel_input_options import add_mel_input_options, mel_input_from, warn_unused_mel_input_options
from hifigan.cli.model_source import add_generator_source, generator_from_args
from hifigan.cli.vocode_checks import (
    INPUT,
    CheckedMels,
    check_input,
    check_names,
    check_out_is_a_folder_name,
    vocode_mel,
)
from hifigan.errors import HifiganError, bad_inputs
from hifigan.files.leftovers import remove_stale
from hifigan.files.output_folders import prepare_output_dir
from hifigan.files.paths import unreadable_files
from hifigan.inference.choices import (
    AUTO_CHUNK_FRAMES,
    DEFAULT_CHUNK_FRAMES,
    SHAPE_BUCKETS,
)
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import check_mel_options
from hifigan.messages.plural import count
from hifigan.runtime.collector import torch_frozen

if TYPE_CHECKING:
    import torch

    from hifigan.config import HifiganConfig


def add_vocode(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "vocode", run_vocode,
        help="turn mels (.npy) or audio (copy synthesis) into 16-bit WAV",
        description="Vocode each INPUT with a generator checkpoint. An INPUT ending in .npy is a log-mel "
        "([num_mels, T] or [1, num_mels, T]) in the model's convention (its config's mel_convention; "
        "--mel-convention converts another); anything else is read as audio, turned into the model's mel and "
        "resynthesised (copy synthesis); a folder gives its .npy and audio files. Writes OUT/<stem>.wav as 16-bit "
        "PCM at the config's rate. Every input and the checkpoint are checked first: any bad one fails the run, "
        "listed all in one line, before OUT is created.",
        epilog="examples:\n"
        "  hifigan vocode --pretrained lj-v1 -o out/ data/ljspeech-mini/LJ001-0001.wav\n"
        "  hifigan vocode --checkpoint g_02500000 --config v1 -o out/ data/ljspeech-mini/*.wav\n"
        "  hifigan vocode --checkpoint runs/demo/run/checkpoints/latest.pt -o out/ mels/\n"
        "  hifigan vocode -c g_02500000 --config v1 -o out/ --evaluate data/ljspeech-mini/LJ001-000*.wav",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="audio files or .npy mels, or folders of them (their files anywhere below, as `hifigan train "
                   "--corpus` finds audio, and .npy)")
    add_generator_source(p)
    add_out(p, "folder for the WAV files, DIR/<stem>.wav (created once every input has passed the checks); a "
            "name ending in an audio suffix (out.wav) is refused unless it is an existing folder",
            old_option="--output-dir", metavar="DIR")
    add_device(p)
    add_threads(p)
    add_no_progress(p)
    add_inference_options(p)
    p.add_argument("--stream", action="store_true",
                   help="vocode in chunks of --chunk-frames with exact receptive-field context (bounded memory; same "
                   f"audio as one-shot). Inputs longer than {AUTO_CHUNK_FRAMES} frames are chunked even without it")
    p.add_argument("--chunk-frames", type=Count(1), default=DEFAULT_CHUNK_FRAMES, metavar="FRAMES",
                   help=f"mel frames per chunk when streaming or chunking (default {DEFAULT_CHUNK_FRAMES})")
    p.add_argument("--batch", type=Count(1), default=1, metavar="N",
                   help="vocode N inputs at a time (default 1; Vocoder.batch: each output is the input's own "
                   "audio, to float rounding; with --backend invariant bit for bit). Pays on a GPU (V2 and V3 most), "
                   "little on the CPU: the measured times are in docs/inference.md. Inputs that are chunked still go "
                   "one at a time")
    p.add_argument("--evaluate", action="store_true",
                   help="copy synthesis: score each output against its audio input with hifigan evaluate's metrics "
                   "(table on stdout, OUT/evaluation.json and .png); every input must be audio")
    add_audio_options(p)
    add_mel_input_options(p)


@torch_frozen
def run_vocode(args: argparse.Namespace) -> int:
    from hifigan.audio import AUDIO_SUFFIXES, save_audio, save_audio_chunks
    from hifigan.evaluation.metrics import min_samples, require_packages
    from hifigan.inference.engines import require_backend
    from hifigan.inference.streaming import split_frames
    from hifigan.inference.vocoder import Vocoder
    from hifigan.mel import MelSpectrogram
    from hifigan.runtime.devices import resolve_device

    check_out_is_a_folder_name(args.out)
    inputs = expand_inputs(args.inputs, (*AUDIO_SUFFIXES, ".npy"), "audio or .npy")
    args.inputs = inputs.files  # a folder's files, each vocoded as that file given alone would be
    resolve_device(args.device, cli=True)
    require_backend(args.backend)  # an extra's package that is missing fails now, before any work
    if args.evaluate:
        require_packages(None)
    if args.batch > 1 and args.stream:
        raise HifiganError(None, "--batch and --stream exclude each other (streamed inputs are vocoded one at a time)")
    warn_unused_mel_input_options(args)
    named, problems = check_names(args)
    problems = [*inputs.problems, *problems]
    try:
        generator, config = generator_from_args(args)
    except HifiganError as e:  # named with the inputs that do not exist (the rest need the model to be checked)
        raise bad_inputs([e, *inputs.problems, *unreadable_files(args.inputs, INPUT)], inputs.total + 1) from None
    vocoder = Vocoder(generator, config, device=args.device, backend=args.backend, precision=args.precision,
                      shape_buckets=SHAPE_BUCKETS[args.shape_buckets], cli=True)
    model = ModelMel.of(config)
    mel_input = mel_input_from(args)
    if any(path.suffix.lower() == ".npy" for path in args.inputs):
        check_mel_options(model, mel_input)
    # Only where an input is audio: the mel basis imports librosa.filters and scipy.signal (~1 s), which .npy mels
    # (a TTS model's output) never need.
    audio_in = any(path.suffix.lower() != ".npy" for path in args.inputs)
    frontend = MelSpectrogram(**config.mel_kwargs()) if audio_in else None
    needs = min_samples(config) if args.evaluate else 0  # --evaluate: the shortest pair the metrics take
    # every input is checked, and every bad one reported, before anything is created (a bar as mel's check has);
    # the mels read are kept for the vocode pass, within a budget
    checked = CheckedMels()
    checks = enumerate(zip(progress(args.inputs, "check", len(args.inputs), shows_progress(args)), named))
    for index, (path, name_problem) in checks:
        if name_problem is not None:
            problems.append(name_problem)
            continue  # its output name is the problem already
        try:
            mel, scored, reference = check_input(path, model, mel_input, frontend, args)
        except HifiganError as e:
            problems.append(e)
            continue
        checked.keep(index, mel, reference if args.evaluate else None)  # --evaluate scores against the audio
        if scored is not None and scored < needs:
            problems.append(HifiganError(path, f"too short for --evaluate: {count(scored, 'sample')}, the metrics "
                                               f"need at least {needs}"))
    if problems:
        raise bad_inputs(problems, inputs.total)
    prepare_output_dir(args.out)
    remove_stale(args.out)  # a killed vocode's .NAME.wav.*.tmp: hidden, never an output
    started = time.perf_counter()
    written: list[tuple[str, Path, Path]] = []
    samples: list[int] = []
    pending: list[tuple[Path, torch.Tensor]] = []  # mels waiting for a full --batch

    def finite(path: Path, audio: torch.Tensor) -> torch.Tensor:
        if not bool(audio.isfinite().all()):  # to_int16 would write NaN as silence
            raise HifiganError(path, "the generator's output holds NaN or inf (its weights are likely damaged); no "
                                     f"{path.stem}.wav written")
        return audio

    def write(path: Path, audio: torch.Tensor) -> None:
        out = args.out / f"{path.stem}.wav"
        save_audio(out, finite(path, audio).numpy(), config.sampling_rate)
        written.append((path.stem, path, out))
        samples.append(audio.shape[-1])

    def write_chunked(path: Path, mel: torch.Tensor) -> None:
        """Each chunk's audio to the file as it is vocoded: memory is bounded by the chunk, not the audio's length.
        A single input (an hour of audiobook takes minutes) gets a bar of its own chunks, as many inputs get one of
        files."""
        out = args.out / f"{path.stem}.wav"
        pieces = split_frames(mel, args.chunk_frames)
        if len(args.inputs) == 1:
            pieces = progress(pieces, path.name, -(-mel.shape[-1] // args.chunk_frames), shows_progress(args),
                              unit="chunk")
        chunks = vocoder.stream(pieces, min_frames=args.chunk_frames)
        samples.append(save_audio_chunks(out, (finite(path, c) for c in chunks), config.sampling_rate))
        written.append((path.stem, path, out))

    def flush() -> None:
        audios = vocoder.batch([m for _, m in pending]) if len(pending) > 1 else [vocoder(m) for _, m in pending]
        for (path, _), audio in zip(pending, audios):
            write(path, audio)
        pending.clear()

    chunked = False  # whether --chunk-frames reached an input
    for index, path in enumerate(progress(args.inputs, "vocode", len(args.inputs), shows_progress(args))):
        mel = vocode_mel(checked, index, path, model, mel_input, frontend, args)
        if args.stream or mel.shape[-1] > AUTO_CHUNK_FRAMES:
            flush()  # the outputs keep the inputs' order
            write_chunked(path, mel)
            chunked = True
            continue
        pending.append((path, mel))
        if len(pending) == args.batch:
            flush()
    flush()
    if not chunked and args.chunk_frames != args.subparser.get_default("chunk_frames"):
        _warn_unused_chunk_frames()
    elapsed = time.perf_counter() - started
    report = _evaluate_copy_synthesis(written, config, args, checked) if args.evaluate else ()
    say_vocoded(args, len(written), sum(samples) / config.sampling_rate, args.out, elapsed, report)
    return 0


def _warn_unused_chunk_frames() -> None:
    """--chunk-frames given where no input was chunked (no --stream, none long enough): said, not silently ignored."""
    import warnings

    warnings.warn(f"--chunk-frames applies to --stream and to inputs longer than {AUTO_CHUNK_FRAMES} frames (chunked "
                  "by themselves), and neither was the case: ignored, every input was vocoded whole", stacklevel=3)


def _evaluate_copy_synthesis(
    written: list[tuple[str, Path, Path]], config: HifiganConfig, args: argparse.Namespace, checked: CheckedMels
) -> tuple[Path, ...]:
    """`vocode --evaluate`: score each resynthesised audio input against itself (its audio as the checks or the
    vocode pass read it, where `checked` kept that, else read once more); the table, and the report in the output
    folder (its files returned)."""
    from hifigan.evaluation.evaluate import evaluate_pairs
    from hifigan.evaluation.metrics import measured_lines
    from hifigan.evaluation.output import report_paths

    report = evaluate_pairs(written, config, args.out, resample=args.resample, mix_to_mono=args.mix_to_mono,
                            progress=shows_progress(args), cli=True, references=checked.references_of(args.inputs))
    print("\n".join([*measured_lines(config.sampling_rate, "the model's config", report.metric_names),
                     report.format_table()]))
    return report_paths(args.out)
