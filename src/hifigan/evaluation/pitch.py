"""Pitch metrics from one pYIN analysis per signal: F0 RMSE in cents, V/UV F1, periodicity RMSE; a recording's
analysis is shared by the systems scored against it (ReferenceTracks)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from hifigan.evaluation.signals import Signal, as_numpy
from hifigan.evaluation.undefined import Undefined


@dataclass(frozen=True)
class PitchSettings:
    """pYIN settings shared by the three pitch metrics.

    fmin/fmax 50-550 Hz cover adult speech and keep pYIN's pitch-state HMM small; resolution 0.1 semitone (10 cents)
    is pYIN's pitch-bin width, so F0 values are quantised to 10 cents. The frame is the smallest power of two
    holding four periods of fmin (2048 samples = 93 ms at 22.05 kHz, librosa's default there); the hop is the
    mel hop, so there is one pitch frame per mel frame.
    """

    fmin: float = 50.0
    fmax: float = 550.0
    resolution: float = 0.1

    def frame_length(self, sampling_rate: int) -> int:
        return 1 << math.ceil(math.log2(4 * sampling_rate / self.fmin))


DEFAULT_PITCH = PitchSettings()


@dataclass(frozen=True)
class PitchTrack:
    """One pYIN analysis: F0 in Hz (NaN where unvoiced), the voiced decision, and the voicing probability."""

    f0: np.ndarray
    voiced: np.ndarray
    periodicity: np.ndarray



def pitch_track(audio: Signal, sampling_rate: int, hop_length: int, settings: PitchSettings = DEFAULT_PITCH
                ) -> PitchTrack:
    """pYIN (Mauch & Dixon, ICASSP 2014; librosa.pyin) with `settings`; periodicity = pYIN's voiced probability.
    In float64: pYIN is blind to scale, but in float32 its squares overflow on samples far beyond ±1 (a diverged
    generator's ~1e30), which left no frame voiced and numpy warnings on the console; speech's tracks are the same."""
    import librosa

    f0, voiced, probability = librosa.pyin(
        as_numpy(audio).astype(np.float64), fmin=settings.fmin, fmax=settings.fmax, sr=sampling_rate,
        frame_length=settings.frame_length(sampling_rate), hop_length=hop_length, resolution=settings.resolution,
    )
    return PitchTrack(f0=f0, voiced=voiced.astype(bool), periodicity=np.nan_to_num(probability))


class ReferenceTracks:
    """The pitch tracks of a recording scored against several generated signals (one per system), each computed
    once. A track is kept by all that decides it: the samples pYIN reads (their digest and count: the recording as
    cut to one generated signal's length or delay is another track than the whole), the rate, the hop and the
    settings; so a track given is the one `pitch_track` computes, bit for bit, by construction."""

    def __init__(self) -> None:
        self._tracks: dict[tuple, PitchTrack] = {}

    def __len__(self) -> int:
        return len(self._tracks)

    def track(self, audio: Signal, sampling_rate: int, hop_length: int, settings: PitchSettings = DEFAULT_PITCH
              ) -> PitchTrack:
        """`pitch_track(audio, ...)`, computed the first time these samples come with these settings."""
        samples = as_numpy(audio)
        key = (hashlib.blake2b(samples, digest_size=16).digest(), len(samples), sampling_rate, hop_length, settings)
        if key not in self._tracks:
            self._tracks[key] = pitch_track(samples, sampling_rate, hop_length, settings)
        return self._tracks[key]


def _paired(reference: PitchTrack, generated: PitchTrack) -> tuple[PitchTrack, PitchTrack]:
    """Both tracks cut to their common number of frames."""
    n = min(len(reference.f0), len(generated.f0))
    return tuple(PitchTrack(t.f0[:n], t.voiced[:n], t.periodicity[:n]) for t in (reference, generated))


def f0_rmse_cents(reference: PitchTrack, generated: PitchTrack) -> float:
    """RMS of 1200 log2(F0_gen / F0_ref) over this file's frames voiced in both (CARGAN, Morrison et al., ICLR
    2022, which pools the frames of all files into one RMS; a report averages the files' values instead).

    pYIN quantises F0 to `resolution` (10 cents), so a value is exact to about +-10 cents. NaN if no frame is
    voiced in both (Undefined, with the cause).
    """
    ref, gen = _paired(reference, generated)
    both = ref.voiced & gen.voiced & np.isfinite(ref.f0) & np.isfinite(gen.f0)
    if not both.any():
        return Undefined("no frame is voiced in both")
    cents = 1200.0 * np.log2(gen.f0[both] / ref.f0[both])
    return float(np.sqrt(np.mean(cents**2)))


def vuv_f1(reference: PitchTrack, generated: PitchTrack) -> float:
    """F1 of the generated voiced/unvoiced decisions against the reference's (voiced = positive class):
    2 TP / (2 TP + FP + FN) (CARGAN, Morrison et al., 2022). NaN when neither signal has a voiced frame.
    """
    ref, gen = _paired(reference, generated)
    tp = np.sum(ref.voiced & gen.voiced)
    wrong = np.sum(ref.voiced != gen.voiced)
    return Undefined("neither has a voiced frame") if tp + wrong == 0 else float(2 * tp / (2 * tp + wrong))


def periodicity_rmse(reference: PitchTrack, generated: PitchTrack) -> float:
    """RMS difference of the per-frame periodicity over all frames (CARGAN, Morrison et al., 2022).

    CARGAN reads periodicity from torchcrepe; here it is pYIN's voiced probability (in [0, 1]).
    """
    ref, gen = _paired(reference, generated)
    return float(np.sqrt(np.mean((ref.periodicity - gen.periodicity) ** 2)))

