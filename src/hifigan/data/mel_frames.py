"""Whether `hifigan train --input-mels` mels were made from their audio at the model's hop: each mel's frame count
against its clip's samples / hop (a few frames off is a front-end's framing), and, across the corpus, the rate at
which frames grow with samples (a mel of another hop or sample rate drifts from its audio by a share of its length,
a slope no legitimate framing has, even where each clip alone is within the few frames).

What the front-ends that make teacher-forced mels give a clip of T samples at hop h (read in their code):
the official fine-tuning (jik876/hifi-gan meldataset.py) frames T // h (its mel pads (n_fft - h) / 2 a side, not
centred) and checks nothing: it cuts mel windows at random.randint(0, F - frames - 1) and the audio at the same
frame x h. NVIDIA tacotron2 (stft.py pads n_fft / 2 a side), ESPnet (Stft, center=True) and Coqui TTS
(librosa.stft, center=True) frame 1 + T // h. A decoder of r frames a step pads its outputs to a multiple of r
(NVIDIA TextMelCollate, Coqui; r up to 7 in Coqui's gradual training) or ESPnet's trims the target to
T' - T' % r: up to r - 1 more or fewer. ming024/FastSpeech2 keeps sum(durations) frames, each duration
round(end sr / h) - round(start sr / h) of a forced alignment: T / h, a frame either way. So every legitimate
count lies within r + 1 <= 8 frames of T / h, whatever the clip's length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError, MelError
from hifigan.messages.plural import count

FRAME_SLACK = 8  # frames a mel may differ from samples / hop: the survey above
MIN_CLIPS = 8  # fewer mels and the corpus check says nothing: a few integer counts can fall on any line
MIN_DRIFT = 0.01  # a share of a clip's frames (hop 256 against 253 is 1.2%)
FALSE_ALARM = 1e-6  # the two-sided chance that legitimate framing's scatter alone shows a drift refused


@dataclass(frozen=True, slots=True)
class MelCount:
    """A teacher-forced mel's frame count and its audio's length in samples."""

    path: Path
    frames: int
    samples: int


class FrameCountError(MelError):
    """A mel whose frame count does not fit its audio at the model's hop (frames_mismatch)."""


def frames_mismatch(mel: MelCount, config: HifiganConfig) -> FrameCountError | None:
    """The error of a mel more than FRAME_SLACK frames off its audio's samples / hop (None: it may pair): a mel of
    another hop, rate or file, whose windows would pair with the wrong audio."""
    expected = mel.samples / config.hop_size
    if abs(mel.frames - expected) <= FRAME_SLACK:
        return None
    return FrameCountError(mel.path, f"{_counts(mel, config.hop_size)} (up to {FRAME_SLACK} off is a front-end's "
                                     f"framing): a mel of another hop, sample rate or file; remake it from this "
                                     f"audio at hop {config.hop_size} and {config.sampling_rate} Hz")


def hop_drift(mels: Sequence[MelCount], config: HifiganConfig, folder: Path) -> HifiganError | None:
    """The error of mels whose frames grow with their audio's samples at another rate than 1 / hop (None: they do
    not, or too few mels, or all of one length, to tell): the least-squares slope of each mel's frames less
    samples / hop against samples / hop, refused where it is at least MIN_DRIFT and its t statistic past the
    FALSE_ALARM quantile. It names the hop the mels imply and the mel furthest off its audio."""
    if len(mels) < MIN_CLIPS:
        return None
    hop = config.hop_size
    expected = np.array([m.samples / hop for m in mels])
    off = np.array([m.frames for m in mels]) - expected
    centred = expected - expected.mean()
    spread = float(centred @ centred)
    if spread == 0.0:
        return None
    slope = float(centred @ off) / spread
    residual = off - off.mean() - slope * centred
    error = float(np.sqrt(residual @ residual / (len(mels) - 2) / spread))
    if abs(slope) < MIN_DRIFT or abs(slope) <= _t_quantile(len(mels) - 2) * error:
        return None
    worst = mels[int(np.argmax(np.abs(off)))]
    faster = "faster" if slope > 0 else "slower"
    implied = hop / (1 + slope)  # to a tenth where a whole hop would read as the model's (a small hop)
    implied_text = f"{implied:.0f}" if round(implied) != hop else f"{implied:.1f}"
    return HifiganError(folder, f"across {count(len(mels), 'clip')} the mels' frames grow {abs(slope):.1%} {faster} "
                                f"than their audio's samples / {hop}: they were made at hop {implied_text} "
                                f"(or at another rate than {config.sampling_rate} Hz), not the model's {hop}, e.g. "
                                f"{worst.path.name}: {_counts(worst, hop)}; remake them from the audio at hop {hop} "
                                f"and {config.sampling_rate} Hz, or train a config of their hop and rate")


def with_hop_drift(problems: list[HifiganError], mels: Sequence[MelCount], config: HifiganConfig,
                   folder: Path | None) -> list[HifiganError]:
    """A scan's `problems` with hop_drift's error first, where the mels drift, in place of the frame counts it
    explains."""
    if folder is None or (drift := hop_drift(mels, config, folder)) is None:
        return problems
    return [drift, *(e for e in problems if not isinstance(e, FrameCountError))]


def _counts(mel: MelCount, hop: int) -> str:
    return (f"{count(mel.frames, 'frame')}, but its audio ({count(mel.samples, 'sample')}) implies "
            f"{mel.samples / hop:.0f} at hop {hop}")


def _t_quantile(dof: int) -> float:
    from scipy.stats import t  # imported when a corpus has the mels to judge: scipy.stats takes a while

    return float(t.ppf(1 - FALSE_ALARM / 2, dof))
