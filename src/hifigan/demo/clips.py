"""The held-out clips of `hifigan demo` (hifigan.demo.run), vocoded and scored: by the generator being trained, at the
start and the end, and by every installed pretrained model (hifigan.pretrained) as what good sounds like."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.mel import MelSpectrogram

if TYPE_CHECKING:
    from hifigan.evaluation.pitch import ReferenceTracks
    from hifigan.inference import Vocoder
    from hifigan.training.trainer import Trainer


def compare(reference: np.ndarray, generated: np.ndarray, config: HifiganConfig,
            tracks: ReferenceTracks | None = None) -> dict[str, float]:
    """Every metric of hifigan.evaluation.metrics for one generated clip against its recording (METRICS order);
    `tracks`: the recordings' pitch tracks, shared by the columns scored against them.

    A clip shorter than the metrics' minimum (`min_samples`) gets its mel L1 only, the rest NaN (undefined).
    """
    from hifigan.evaluation.metrics import METRICS, compute_metrics, min_samples
    from hifigan.evaluation.spectral import mel_l1

    if min(len(reference), len(generated)) < min_samples(config):
        return {name: mel_l1(reference, generated, config) if name == "mel_l1" else math.nan for name in METRICS}
    return compute_metrics(reference, generated, config, cli=True, reference_tracks=tracks)  # the demo is a command


@dataclass
class Vocoded:
    """One held-out clip: its id, the reference audio, the input mel, the generated audio, the corpus file recorded
    (None: audio made in memory), and the rate the generated audio was made at where another than the demo's (it was
    resampled to the demo's)."""

    clip: str
    reference: np.ndarray
    mel: np.ndarray
    generated: np.ndarray
    recording: Path | None = None
    made_at: int | None = None

    def formats(self, rate: int) -> dict[str, dict[str, int]] | None:
        """As a FileResult records them (hifigan.evaluation.provenance): the recording as stored in the corpus, the
        generated audio as made (mono, at `made_at`, else the demo's `rate`); None without a recording file."""
        from hifigan.audio import audio_info

        if self.recording is None:
            return None
        info = audio_info(self.recording)
        return {"reference": {"sampling_rate": info.samplerate, "channels": info.channels},
                "generated": {"sampling_rate": self.made_at or rate, "channels": 1}}


def vocode_clips(trainer: Trainer) -> list[Vocoded]:
    """The trainer's generator (as trained) on every whole held-out utterance."""
    clips = trainer.valid_set.clips
    return [Vocoded(clips[i].id, audio.numpy(), mel.numpy(), y_hat.numpy(), clips[i].path)
            for i, mel, audio, y_hat in trainer.vocode_held_out()]


def score_clips(clips: list[Vocoded], config: HifiganConfig,
                tracks: ReferenceTracks | None = None) -> list[dict[str, float]]:
    """`compare` for every clip, in order."""
    return [compare(clip.reference, clip.generated, config, tracks) for clip in clips]


def pretrained_clips(clips: list[Vocoded], config: HifiganConfig) -> tuple[dict[str, list[Vocoded]], list[str]]:
    """The clips vocoded by every installed pretrained model, by model name, at `config`'s rate; and one note per
    model: why it is missing, how it heard clips at another rate or mel, and on LJSpeech clips which it was trained on.

    A model whose mel is the demo's vocodes the demo's mels. Any other hears the same recordings as its users would
    feed it (`vocode_recording`: resampled to its rate, its own mel) and its output is resampled back, so every
    column is scored against the same recordings, at the demo's rate, with the same metrics. That is the honest
    comparison: leaving it out would hide what good sounds like at this rate, and what the round trip costs it (a
    22050 Hz model has nothing above 11025 Hz) is a real limit of using it here, which its note states.
    """
    from hifigan.inference import Vocoder
    from hifigan.pretrained import MODELS, load_pretrained

    vocoded: dict[str, list[Vocoded]] = {}
    notes = []
    ljspeech = any(re.fullmatch(r"LJ\d{3}-\d{4}", clip.clip) for clip in clips)
    rate = config.sampling_rate
    for name, model in MODELS.items():
        try:
            generator, model_config = load_pretrained(name)
        except HifiganError as e:
            notes.append(f"{name}: not shown: {e}")
            continue
        vocoder = Vocoder(generator, model_config)
        if model_config.mel_kwargs() == config.mel_kwargs():
            vocoded[name] = [replace(c, generated=vocoder(c.mel).numpy()) for c in clips]
        else:
            model_rate = model_config.sampling_rate
            vocoded[name] = [replace(c, generated=vocode_recording(vocoder, c.reference, rate),
                                     made_at=model_rate if model_rate != rate else None) for c in clips]
            heard = "the same clips" if model_rate == rate else (
                f"the clips resampled to {model_rate} Hz, its output resampled back to {rate} Hz"
                + (f" (nothing above {model_rate / 2:g} Hz)" if model_rate < rate else ""))
            notes.append(f"{name}: its own rate and mel ({model_rate} Hz, {model_config.num_mels} bins, hop "
                         f"{model_config.hop_size}): given {heard}")
        if ljspeech:
            notes.append(f"{name} was trained on LJSpeech ({model.seen_ljspeech}): its scores here are not "
                         "held-out figures")
    return vocoded, notes


def vocode_recording(vocoder: Vocoder, audio: np.ndarray, rate: int) -> np.ndarray:
    """A model at its own rate and mel on a recording at `rate`, [T] -> [T]: resampled to the model's rate (soxr),
    zero-padded to whole hops so every sample is vocoded, its mel, vocoded, resampled back, cut to T samples."""
    from hifigan.audio import resample_audio

    model_rate, hop = vocoder.config.sampling_rate, vocoder.config.hop_size
    x = resample_audio(audio, rate, model_rate) if model_rate != rate else audio.astype(np.float32)
    x = np.pad(x, (0, -len(x) % hop))
    y = vocoder(MelSpectrogram(**vocoder.config.mel_kwargs())(torch.from_numpy(x))).numpy()
    y = resample_audio(y, model_rate, rate) if model_rate != rate else y
    return np.pad(y[: len(audio)], (0, max(0, len(audio) - len(y))))
