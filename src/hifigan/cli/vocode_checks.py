"""The checks of `hifigan vocode` (cli/vocode.py), made before anything is written: the -o folder's name, the
output names (none overwrites an input, no two alike), and each input read whole (a mel checked, audio's mel
computed), its mel kept for the vocode pass and, under --evaluate, its samples for the scoring (CheckedMels)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.input_paths import one_per_input, output_name_checks, refuse_file_name_for_folder
from hifigan.cli.model_source import config_file
from hifigan.cli.overwrites import overwrite_checks
from hifigan.errors import HifiganError
from hifigan.files.paths import require_file
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import MelInput, check_vocode_mel, load_vocode_mel

if TYPE_CHECKING:
    import numpy as np
    import torch

    from hifigan.evaluation.scoring import Decoded
    from hifigan.mel import MelSpectrogram

INPUT = "an audio or .npy file"  # what vocode reads, in the errors of a missing or empty input
# What the checks read and CheckedMels keeps for the passes after them, in all: ~40 min of V1's mels at 22050 Hz (80
# bins x 86 frames/s, float32), or ~10 min of mels and samples (--evaluate). Past it, an input is read again: a
# corpus folder's inputs are not all held at once.
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
                args: argparse.Namespace) -> tuple[np.ndarray | torch.Tensor, int | None, Decoded | None]:
    """Fail on a bad input before anything is written: a mel is loaded and checked; audio is read whole (format,
    truncation, NaN) and its mel computed by `frontend` (too short, overflow; None where every input is a mel).
    Returns the mel, as the vocode pass takes it (input_mel's), and for audio the length --evaluate would score (the
    shorter of the input and its output, a hop per mel frame) and the audio as read (what --evaluate scores
    against)."""
    require_file(path, INPUT)
    if path.suffix.lower() == ".npy":
        return check_vocode_mel(path, model, mel_input), None, None
    decoded, mel = _audio_mel(path, model, frontend, args)
    return mel, min(len(decoded[0]), mel.shape[-1] * frontend.hop_size), decoded  # type: ignore[union-attr]


def input_mel(path: Path, model: ModelMel, mel_input: MelInput, frontend: MelSpectrogram | None,
              args: argparse.Namespace) -> tuple[np.ndarray | torch.Tensor, Decoded | None]:
    """An input's mel, read again (one CheckedMels did not keep): a .npy's in the model's convention, audio's
    computed by `frontend`; and for audio, the audio as read (check_input's)."""
    if path.suffix.lower() == ".npy":
        return load_vocode_mel(path, model, mel_input), None
    decoded, mel = _audio_mel(path, model, frontend, args)
    return mel, decoded


def vocode_mel(checked: CheckedMels, index: int, path: Path, model: ModelMel, mel_input: MelInput,
               frontend: MelSpectrogram | None, args: argparse.Namespace) -> np.ndarray | torch.Tensor:
    """The mel the vocode pass takes for input `index`: the one its check kept, else read again (input_mel), the
    audio then kept for --evaluate's scoring where it fits (the room of the mels taken before it)."""
    mel = checked.take(index)
    if mel is None:
        mel, reference = input_mel(path, model, mel_input, frontend, args)
        if args.evaluate and reference is not None:
            checked.hold(index, reference)
    return mel


def _audio_mel(path: Path, model: ModelMel, frontend: MelSpectrogram | None, args: argparse.Namespace
               ) -> tuple[Decoded, torch.Tensor]:
    """An audio input read whole at the model's rate (--resample, --mix-to-mono) and its mel, checked by `frontend`:
    the audio as read (hifigan.audio.read_audio's samples, and the file's rate and channels), and the mel."""
    from hifigan.audio import read_audio

    decoded = read_audio(path, model.sampling_rate, resample=args.resample, mix_to_mono=args.mix_to_mono, cli=True)
    return decoded, frontend.checked(decoded[0], path)  # type: ignore[union-attr]


class CheckedMels:
    """What the checks read, kept for the passes after them so that an input is read as few times as the budget
    allows, up to `budget` bytes in all (KEPT_MEL_BYTES): each input's mel, for the vocode pass (past the budget
    input_mel reads it again), and under --evaluate the samples of audio inputs, for the scoring (else it reads
    them again). The mels come first, as they did before --evaluate kept anything: samples are kept in the room the
    mels leave, and give way (the last kept first) to a later mel that would not fit otherwise; a mel taken leaves
    room for the samples the vocode pass reads again."""

    def __init__(self, budget: int = KEPT_MEL_BYTES) -> None:
        self.room = budget
        self.mels: dict[int, np.ndarray | torch.Tensor] = {}
        self.references: dict[int, Decoded] = {}  # the audio inputs as read, for the scoring
        self.held = 0  # the bytes of their samples

    def keep(self, index: int, mel: np.ndarray | torch.Tensor, reference: Decoded | None = None) -> None:
        """Keep the mel of input `index` if it fits in the room left once samples kept give way to it, and then its
        `reference` (the audio as read, under --evaluate) if that fits too. Neither where the mel does not fit: the
        vocode pass reads that input again (vocode_mel), and its audio may find room then."""
        if mel.nbytes > self.room + self.held:
            return
        while mel.nbytes > self.room:
            samples = self.references.popitem()[1][0]
            self.room, self.held = self.room + samples.nbytes, self.held - samples.nbytes
        self.mels[index] = mel
        self.room -= mel.nbytes
        if reference is not None:
            self.hold(index, reference)

    def hold(self, index: int, reference: Decoded) -> None:
        """Keep the audio of input `index` as read, for the scoring, if its samples fit in the room left."""
        if (size := reference[0].nbytes) <= self.room:
            self.references[index] = reference
            self.room, self.held = self.room - size, self.held + size

    def take(self, index: int) -> np.ndarray | torch.Tensor | None:
        """The mel kept for input `index`, no longer held here (freed once vocoded, its room free again); None where
        none was kept."""
        mel = self.mels.pop(index, None)
        if mel is not None:
            self.room += mel.nbytes
        return mel

    def references_of(self, inputs: Sequence[Path]) -> dict[Path, Decoded]:
        """The audio kept for the scoring, by input path (`inputs`: the inputs, in their order)."""
        return {inputs[index]: reference for index, reference in self.references.items()}
