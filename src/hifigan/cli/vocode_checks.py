"""The checks of `hifigan vocode` (cli/vocode.py), made before anything is written: the -o folder's name, the
output names (none overwrites an input, no two alike), and each input read whole (a mel checked, audio's mel
computed), its mel kept for the vocode pass (CheckedMels)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.common import config_file, overwrite_checks
from hifigan.cli.input_paths import one_per_input, output_name_checks, refuse_file_name_for_folder
from hifigan.errors import HifiganError
from hifigan.files.paths import require_file
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import MelInput, check_vocode_mel, load_vocode_mel

if TYPE_CHECKING:
    import numpy as np
    import torch

    from hifigan.mel import MelSpectrogram

INPUT = "an audio or .npy file"  # what vocode reads, in the errors of a missing or empty input
# The checks' mels kept for the vocode pass, in all: ~40 min of V1's at 22050 Hz (80 bins x 86 frames/s, float32).
# Past it, an input is read again: a corpus folder's mels are not all held at once.
KEPT_MEL_BYTES = 64 * 2**20


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
                args: argparse.Namespace) -> tuple[np.ndarray | torch.Tensor, int | None]:
    """Fail on a bad input before anything is written: a mel is loaded and checked; audio is read whole (format,
    truncation, NaN) and its mel computed by `frontend` (too short, overflow; None where every input is a mel).
    Returns the mel, as the vocode pass takes it (input_mel's), and for audio the length --evaluate would score: the
    shorter of the input and its output (a hop per mel frame)."""
    require_file(path, INPUT)
    if path.suffix.lower() == ".npy":
        return check_vocode_mel(path, model, mel_input), None
    samples, mel = _audio_mel(path, model, frontend, args)
    return mel, min(samples, mel.shape[-1] * frontend.hop_size)  # type: ignore[union-attr]


def input_mel(path: Path, model: ModelMel, mel_input: MelInput, frontend: MelSpectrogram | None,
              args: argparse.Namespace) -> np.ndarray | torch.Tensor:
    """An input's mel, read again (one CheckedMels did not keep): a .npy's in the model's convention, audio's
    computed by `frontend`."""
    if path.suffix.lower() == ".npy":
        return load_vocode_mel(path, model, mel_input)
    return _audio_mel(path, model, frontend, args)[1]


def _audio_mel(path: Path, model: ModelMel, frontend: MelSpectrogram | None, args: argparse.Namespace
               ) -> tuple[int, torch.Tensor]:
    """An audio input read whole at the model's rate (--resample, --mix-to-mono) and its mel, checked by `frontend`:
    its length in samples, and the mel."""
    from hifigan.audio import load_audio

    audio = load_audio(path, model.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono, cli=True)
    return len(audio), frontend.checked(audio, path)  # type: ignore[union-attr]


class CheckedMels:
    """The mels the checks computed, kept for the vocode pass so that each input is read once, up to `budget` bytes
    in all (KEPT_MEL_BYTES); the mel of an input past it is not kept (input_mel reads it again)."""

    def __init__(self, budget: int = KEPT_MEL_BYTES) -> None:
        self.room = budget
        self.mels: dict[int, np.ndarray | torch.Tensor] = {}

    def keep(self, index: int, mel: np.ndarray | torch.Tensor) -> None:
        """Keep the mel of input `index` if it fits in the room left."""
        if mel.nbytes <= self.room:
            self.mels[index] = mel
            self.room -= mel.nbytes

    def take(self, index: int) -> np.ndarray | torch.Tensor | None:
        """The mel kept for input `index`, no longer held here (freed once vocoded); None where none was kept."""
        return self.mels.pop(index, None)
