"""A model normalised by per-bin statistics (pwg-24k's log10 with a stats.h5's mean and std) judges mels by how
their bins fit those statistics: its own normalised mels of clips at other levels or through another microphone fit,
the un-normalised log10 mels of the same clips do not (vocode would read them as normalised values)."""

import functools

import numpy as np
import pytest
import scipy.signal
import torch

from hifigan.audio import load_audio
from hifigan.config import config_from_dict, load_config
from hifigan.mel import MelSpectrogram
from hifigan.melconv import ModelMel, detect
from tests.support.files import CORPUS

STATS_CLIPS = ("LJ001-0001", "LJ001-0003", "LJ001-0004", "LJ001-0005", "LJ001-0006", "LJ001-0007")
HELD_OUT = ("LJ001-0008", "LJ001-0011")  # not in the statistics: 1.8 and 4.5 s
GAINS = (1.0, 0.25, 0.03)  # 0, -12 and -30 dB from the recordings' level


@functools.cache
def frontend() -> MelSpectrogram:
    return MelSpectrogram(**load_config("pwg-24k").mel_kwargs())


def log10_mel(audio: np.ndarray) -> np.ndarray:
    return frontend()(torch.from_numpy(audio.astype(np.float32))).numpy().astype(np.float64)


@functools.cache
def normalised_model() -> ModelMel:
    """pwg-24k with the mean and std of STATS_CLIPS' log10 mels, as Parallel WaveGAN's compute_statistics gives."""
    values = np.concatenate([log10_mel(load_audio(CORPUS / f"{c}.wav", 24000, resample=True)) for c in STATS_CLIPS],
                            axis=1)
    stats = {"mean": values.mean(axis=1).tolist(), "std": values.std(axis=1).tolist()}
    return ModelMel.of(config_from_dict({**load_config("pwg-24k").to_dict(), "mel_stats": stats}))


def pre_emphasis(audio: np.ndarray) -> np.ndarray:
    """A brighter microphone: +20 dB per decade from a few hundred Hz up."""
    return scipy.signal.lfilter([1.0, -0.97], [1.0], audio)


@pytest.mark.parametrize("clip", HELD_OUT)
@pytest.mark.parametrize("filtered", [False, True])
def test_the_models_normalised_mels_fit_and_its_plain_log10_mels_do_not(clip, filtered):
    model = normalised_model()
    audio = load_audio(CORPUS / f"{clip}.wav", 24000, resample=True)
    audio = pre_emphasis(audio) if filtered else audio
    for gain in GAINS:
        mel = log10_mel(gain * audio)
        normalised = (mel - model.stats.mean[:, None]) / model.stats.std[:, None]
        verdict = detect(normalised.astype(np.float32), 80, model)
        assert verdict.matches and verdict.convention == "meanstd", (gain, verdict.line())
        plain = detect(mel.astype(np.float32), 80, model)
        assert not plain.matches and plain.option == "--mel-convention log10", (gain, plain.line())
