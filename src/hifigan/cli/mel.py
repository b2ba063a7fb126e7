"""`hifigan mel`: a file's log-mel from the config's front-end (hifigan.mel), as a float32 .npy."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import (
    add_audio_options,
    add_command,
    add_model_source,
    add_out,
    check_output_file,
    config_file,
    model_config,
    refuse_overwriting,
    require_suffix,
    say_wrote,
)


def add_mel(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "mel", run_mel,
        help="compute the log-mel of an audio file that a model of the config takes",
        description="Compute the log-mel spectrogram a model of the config expects, with the config's front-end "
        "(mel_convention, mel_floor, mel_framing, mel_magnitude_eps, mel_stats). The official one (v1, v2, v3) is "
        "the official inference's exactly: int16 audio scaled by 1/32768, no loudness normalisation, reflect "
        "padding, center=False STFT, Slaney mel, natural log. Writes a float32 .npy of shape [num_mels, frames].",
        epilog="examples:\n"
        "  hifigan mel data/ljspeech-mini/LJ001-0001.wav -o LJ001-0001.npy --config v1\n"
        "  hifigan mel speech-24k.wav -o speech.npy --config pwg-24k    # log10, centred frames\n"
        "  hifigan mel take1.wav -o take1.npy -c runs/pwg/checkpoints/latest.pt   # that model's mel",
    )
    p.add_argument("input", type=Path, help="audio file (WAV, FLAC, ... ; mono)")
    add_out(p, "output .npy file (its folder is created)", old_positional=True, metavar="MEL.npy")
    add_model_source(p, "the mel of")
    add_audio_options(p)


def run_mel(args: argparse.Namespace) -> int:
    from hifigan.audio import load_audio
    from hifigan.mel import MelSpectrogram
    from hifigan.mel_file import save_npy

    require_suffix(args.out, ".npy", "mel", "a .npy array")
    config = model_config(args)
    stats = config.mel_stats if isinstance(config.mel_stats, str) else None  # a file, resolved; not its values
    inputs = [("audio", args.input), ("config (--config)", config_file(args.config)),
              ("checkpoint (-c)", args.checkpoint), ("mel stats (the config's mel_stats)", stats)]
    refuse_overwriting([args.out], inputs)
    audio = load_audio(args.input, config.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono)
    mel = MelSpectrogram(**config.mel_kwargs()).checked(audio, args.input)
    check_output_file(args.out)
    save_npy(args.out, mel.numpy().astype("float32"))
    say_wrote(args, args.out)
    return 0
