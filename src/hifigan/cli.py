"""The `hifigan` command line: one subcommand per job, each documented in its --help."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from hifigan.errors import HifiganError

EPILOG = """\
Every command exits 0 on success and 2 on bad input, printing one line that names the file
and the problem (add --debug for a traceback). Outputs are written to a temporary name and
renamed when complete, so a failed run leaves no partial file.
"""


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
    from hifigan.audio import MelSpectrogram, audio_to_mel, load_audio, save_npy
    from hifigan.config import load_config

    config = load_config(args.config)
    audio = load_audio(args.input, config.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono)
    mel = audio_to_mel(audio, MelSpectrogram(**config.mel_kwargs()), args.input)
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
        "  hifigan vocode --checkpoint g_02500000 --config v1 --output-dir out/ data/ljspeech-mini/*.wav\n"
        "  hifigan vocode --checkpoint runs/demo/checkpoints/latest.pt --output-dir out/ mels/*.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="audio files or .npy mels")
    p.add_argument("--checkpoint", "-c", required=True, type=Path,
                   help="our checkpoint (config inside) or an official g_* file")
    p.add_argument("--config", default=None,
                   help="config for an official g_* checkpoint: v1, v2, v3 or an official config json")
    p.add_argument("--output-dir", "-o", required=True, type=Path, help="folder for the WAV files (created)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    _add_audio_options(p)
    _add_common(p)
    p.set_defaults(func=_run_vocode)


def _run_vocode(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hifigan.audio import MelSpectrogram, audio_info, audio_to_mel, load_audio, load_mel, save_audio
    from hifigan.inference import Vocoder, resolve_device

    resolve_device(args.device)
    stems: dict[str, Path] = {}
    for path in args.inputs:
        if path.stem in stems:
            raise HifiganError(path, f"same output name as {stems[path.stem]} ({path.stem}.wav)")
        stems[path.stem] = path
        if not path.exists():
            raise HifiganError(path, "no such file")
        if path.is_dir():
            raise HifiganError(path, "is a directory, expected an audio or .npy file")
        if path.suffix.lower() != ".npy":
            audio_info(path)  # fail fast on unreadable audio, before loading the model
    _prepare_output_dir(args.output_dir)
    vocoder = Vocoder.from_checkpoint(args.checkpoint, args.config, device=args.device)
    config = vocoder.config
    frontend = MelSpectrogram(**config.mel_kwargs())
    bar = tqdm(args.inputs, desc="vocode", unit="file", disable=len(args.inputs) < 2, file=sys.stderr)
    for path in bar:
        if path.suffix.lower() == ".npy":
            mel = load_mel(path, config.num_mels)
        else:
            audio = load_audio(path, config.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono)
            mel = audio_to_mel(audio, frontend, path)
        save_audio(args.output_dir / f"{path.stem}.wav", vocoder(mel).numpy(), config.sampling_rate)
    return 0


# ---------------------------------------------------------------- helpers
def _prepare_output_dir(folder: Path) -> None:
    """Create the output folder, or fail with one line if it cannot be written."""
    import os

    if folder.exists() and not folder.is_dir():
        raise HifiganError(folder, "exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HifiganError(folder, f"cannot create folder ({e.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HifiganError(folder, "folder is not writable")


def _check_output_file(path: Path) -> None:
    if path.is_dir():
        raise HifiganError(path, "is a directory, expected an output file path")
    _prepare_output_dir(path.parent if str(path.parent) else Path("."))


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one subcommand; expected failures become one line on stderr and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HifiganError as e:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"hifigan {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hifigan {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
