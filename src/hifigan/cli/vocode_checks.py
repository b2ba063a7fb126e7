"""The checks of `hifigan vocode` (cli/vocode.py), made before anything is written: the -o folder's name, the
output names (none overwrites an input, no two alike), and each input read whole (a mel checked, audio's mel
computed)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.common import config_file, overwrite_checks
from hifigan.cli.input_paths import one_per_input, output_name_checks, refuse_file_name_for_folder
from hifigan.errors import HifiganError
from hifigan.files.paths import require_file
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import MelInput, check_vocode_mel

if TYPE_CHECKING:
    from hifigan.mel import MelSpectrogram

INPUT = "an audio or .npy file"  # what vocode reads, in the errors of a missing or empty input


def check_out_is_a_folder_name(out: Path) -> None:
    """-o is the folder of <stem>.wav files: a name ending in an audio suffix (out.wav) is refused, unless it is an
    existing folder."""
    from hifigan.audio import AUDIO_SUFFIXES

    refuse_file_name_for_folder(out, "vocode", AUDIO_SUFFIXES, "<stem>.wav")


def check_names(args: argparse.Namespace) -> tuple[list[HifiganError | None], list[HifiganError]]:
    """The problem of each input's output name (None: none; at most one per input, hifigan.cli.input_paths.
    one_per_input): an OUT/<stem>.wav that would overwrite an input (an INPUT, the checkpoint, config or mel stats),
    that another input writes too, or that is a folder; and the problems of the other outputs (--evaluate's report,
    which would score a recording against itself). .npy inputs under --evaluate (a mel has no recording to score
    against) fail here, in one line naming them all."""
    outputs = [args.out / f"{path.stem}.wav" for path in args.inputs]
    if args.evaluate:  # the report's files in the folder OUT (which may not exist yet)
        from hifigan.evaluation.output import report_paths

        outputs += report_paths(f"{args.out}/", create=False)
    sources = [("checkpoint (-c)", args.checkpoint), ("config (--config)", config_file(args.config)),
               ("mel stats (--mel-stats)", args.mel_stats)]
    overwrites = overwrite_checks(outputs, [*(("file", path) for path in args.inputs), *sources])
    mels = [str(p) for p in args.inputs if p.suffix.lower() == ".npy"]
    if args.evaluate and mels:
        raise HifiganError(None, f"--evaluate scores each output against its audio input, and these inputs are "
                           f".npy mels with no recording: {', '.join(mels)} (leave them out, or drop --evaluate)")
    count = len(args.inputs)
    named = one_per_input(overwrites[:count], output_name_checks(args.inputs, args.out, ".wav"))
    return named, [problem for problem in overwrites[count:] if problem is not None]


def check_input(path: Path, model: ModelMel, mel_input: MelInput, frontend: MelSpectrogram | None,
                 args: argparse.Namespace) -> int | None:
    """Fail on a bad input before anything is written: a mel is loaded and checked; audio is read whole (format,
    truncation, NaN) and its mel computed by `frontend` (too short, overflow; None where every input is a mel). For
    audio, the length --evaluate would score: the shorter of the input and its output (a hop per mel frame)."""
    from hifigan.audio import load_audio

    require_file(path, INPUT)
    if path.suffix.lower() == ".npy":
        check_vocode_mel(path, model, mel_input)
        return None
    audio = load_audio(path, model.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono,
                       cli=True)
    frames = frontend.checked(audio, path).shape[-1]
    return min(len(audio), frames * frontend.hop_size)
