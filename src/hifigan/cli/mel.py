"""`hifigan mel`: each audio file's log-mel from the config's front-end (hifigan.mel), as a float32 .npy: one file's
to the .npy named, or many files' (folders by `train --corpus`'s rule) to OUT/<stem>.npy, all checked before OUT is
created, each read once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.common import (
    add_audio_options,
    add_command,
    add_no_progress,
    add_out,
    check_output_file,
    say_wrote,
    say_wrote_files,
    shows_progress,
)
from hifigan.cli.input_paths import Inputs, expand_inputs, output_name_problems, refuse_file_name_for_folder
from hifigan.cli.model_source import add_model_source, config_file, model_config
from hifigan.cli.overwrites import overwritten_inputs, refuse_overwriting
from hifigan.errors import HifiganError, bad_inputs
from hifigan.files.paths import unreadable_files
from hifigan.runtime.collector import torch_frozen

if TYPE_CHECKING:
    from hifigan.config import HifiganConfig

AUDIO = "an audio file"  # what mel reads, in the errors of a missing or empty input


def add_mel(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "mel", run_mel,
        help="compute the log-mel of audio files that a model of the config takes",
        description="Compute the log-mel spectrogram a model of the config expects, with the config's front-end "
        "(mel_convention, mel_floor, mel_framing, mel_magnitude_eps, mel_stats). The official one (v1, v2, v3) is "
        "the official inference's exactly: int16 audio scaled by 1/32768, no loudness normalisation, reflect "
        "padding, center=False STFT, Slaney mel, natural log. Writes a float32 .npy of shape [num_mels, frames]: "
        "one audio file's to -o NAME.npy, or each input's to OUT/<stem>.npy (a flat folder, what `hifigan train "
        "--input-mels` reads). A folder INPUT gives the audio files anywhere below it, as `hifigan train --corpus` "
        "finds them. Every input is read once, checked and its mel computed before OUT is created: any bad one fails "
        "the run, listed all in one line, with nothing written (the mels wait in a hidden folder on OUT's file "
        "system until every input has passed). A corpus is read in worker processes, one per CPU, each mel the "
        "bytes that file alone gives.",
        epilog="examples:\n"
        "  hifigan mel data/ljspeech-mini/LJ001-0001.wav -o LJ001-0001.npy --config v1\n"
        "  hifigan mel data/ljspeech-mini -o mels/ --config v1     # mels/LJ001-0001.npy, ...\n"
        "  hifigan mel speech-24k.wav -o speech.npy --config pwg-24k    # log10, centred frames\n"
        "  hifigan mel take1.wav -o take1.npy -c runs/pwg/checkpoints/latest.pt   # that model's mel",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="audio files (WAV, FLAC, ... ; mono) or folders of them")
    add_out(p, "output: NAME.npy for one audio file; else the folder of <stem>.npy files (created once every input "
            "has passed the checks; a name ending in .npy is refused unless it is an existing folder)",
            old_last_input=("inputs", ".npy"))
    add_model_source(p, "the mel of")
    add_audio_options(p)
    add_no_progress(p)


@torch_frozen
def run_mel(args: argparse.Namespace) -> int:
    from hifigan.audio import AUDIO_SUFFIXES

    one = len(args.inputs) == 1 and not args.inputs[0].is_dir()
    if one and args.out.suffix.lower() == ".npy" and not args.out.is_dir():  # an existing folder takes <stem>.npy
        return _one_mel(args, args.inputs[0])
    if one and args.out.suffix and not args.out.is_dir():
        raise HifiganError(args.out, "the output of mel is a .npy array (give a name ending in .npy), or a folder of "
                                     "them (an existing one, or a name without a suffix)")
    refuse_file_name_for_folder(args.out, "mel", (".npy",), "<stem>.npy", " for several inputs or a folder")
    return _many_mels(args, expand_inputs(args.inputs, AUDIO_SUFFIXES, "audio"))


def _sources(args: argparse.Namespace, config: HifiganConfig) -> list[tuple[str, str | Path | None]]:
    """The files besides the audio that the run reads, which no output may overwrite."""
    stats = config.mel_stats if isinstance(config.mel_stats, str) else None  # a file, resolved; not its values
    return [("config (--config)", config_file(args.config)), ("checkpoint (-c)", args.checkpoint),
            ("mel stats (the config's mel_stats)", stats)]


def _one_mel(args: argparse.Namespace, path: Path) -> int:
    """One audio file's mel to the .npy file -o names."""
    from hifigan.cli.mel_workers import file_mel
    from hifigan.data.scan_row import ReadSettings
    from hifigan.mel import MelSpectrogram
    from hifigan.mel_file import save_npy

    config = model_config(args)
    refuse_overwriting([args.out], [("audio", path), *_sources(args, config)])
    mel = file_mel(path, MelSpectrogram(**config.mel_kwargs()),
                   ReadSettings(config.sampling_rate, args.resample, args.mix_to_mono))
    check_output_file(args.out)
    save_npy(args.out, mel)
    say_wrote(args, args.out)
    return 0


def _many_mels(args: argparse.Namespace, inputs: Inputs) -> int:
    """Each file's mel to OUT/<stem>.npy, with one front-end; each input read once, in worker processes for a corpus
    (cli/mel_workers.py): checked and its mel computed into a staging folder, moved into OUT once every input has
    passed (OUT is created only then)."""
    from hifigan.cli.mel_workers import MelJob, stage_mels
    from hifigan.data.scan_row import ReadSettings
    from hifigan.files.output_folders import prepare_output_dir
    from hifigan.files.staging import move_staged, staging_folder
    from hifigan.mel import MelSpectrogram

    files, bar = inputs.files, shows_progress(args)
    try:
        config = model_config(args)
    except HifiganError as e:  # named with the inputs that do not exist (the rest need the config to be checked)
        raise bad_inputs([e, *inputs.problems, *unreadable_files(files, AUDIO)], inputs.total + 1) from None
    outputs = [args.out / f"{path.stem}.npy" for path in files]
    sources = [*(("audio", p) for p in files), *_sources(args, config)]  # what no output may overwrite
    problems = [*inputs.problems, *overwritten_inputs(outputs, sources), *output_name_problems(files, args.out, ".npy")]
    named = {p.path for p in problems}
    frontend = MelSpectrogram(**config.mel_kwargs())
    read = ReadSettings(config.sampling_rate, args.resample, args.mix_to_mono)
    # a file left out has its output name as its problem already
    checked = [path for path, out in zip(files, outputs) if str(path) not in named and str(out) not in named]
    with staging_folder(args.out, ".hifigan-mel.") as staging:
        problems += stage_mels(checked, MelJob(frontend, read, args.out, staging), bar)
        if problems:
            raise bad_inputs(problems, inputs.total)
        prepare_output_dir(args.out)  # where no staging folder could be made, this names why
        if staging is None:  # it could be made since: each file read again, its mel straight into OUT
            if late := stage_mels(files, MelJob(frontend, read, args.out, args.out), bar):
                raise bad_inputs(late, inputs.total)
        else:
            move_staged([staging / f"{path.stem}.npy" for path in files], args.out)
    say_wrote_files(args, len(files), args.out)
    return 0
