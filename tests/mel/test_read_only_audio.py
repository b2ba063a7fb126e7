"""Read-only audio (np.load(mmap_mode="r"), np.frombuffer of a socket's bytes) through the front-end and the metrics:
taken without torch's 'not writable' warning, as the Vocoder takes a read-only mel, and without a copy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from hifigan.arrays.shared import shared_tensor
from hifigan.config import load_config
from hifigan.evaluation.metrics import compute_metrics
from hifigan.mel import MelSpectrogram, mel_spectrogram
from tests.support.signals import speechlike

V1 = load_config("v1")
CALLS = {
    "mel_spectrogram": lambda audio: mel_spectrogram(audio, **V1.mel_kwargs()),
    "MelSpectrogram": lambda audio: MelSpectrogram(**V1.mel_kwargs())(audio),
    # mel_l1 and mcd go through the loss mel, mrstft and lsd through their own tensors
    "compute_metrics": lambda audio: torch.tensor(list(compute_metrics(
        0.9 * audio, audio, V1, ["mel_l1", "mrstft", "lsd", "mcd"]).values())),
}


def _audio(how: str, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """Half a second of speech-like float32 audio, and the same samples read-only."""
    audio = speechlike(0.5, sr=V1.sampling_rate).astype(np.float32)
    if how == "mmap":
        np.save(tmp_path / "a.npy", audio)
        return audio, np.load(tmp_path / "a.npy", mmap_mode="r")
    return audio, np.frombuffer(audio.tobytes(), np.float32)


@pytest.mark.parametrize("how", ["mmap", "frombuffer"])
@pytest.mark.parametrize("call", CALLS)
def test_read_only_audio_gives_no_warning_and_the_same_values(call, how, tmp_path):
    """torch says its warning once a process: set_warn_always shows each time, so that an earlier test cannot hide
    it."""
    audio, read_only = _audio(how, tmp_path)
    assert not read_only.flags.writeable
    always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = CALLS[call](read_only)
    finally:
        torch.set_warn_always(always)
    assert [str(w.message) for w in caught] == []
    assert torch.equal(got, CALLS[call](audio))


def test_a_read_only_array_is_shared_not_copied():
    audio = np.arange(12, dtype=np.float32)
    audio.setflags(write=False)
    tensor = shared_tensor(audio[::3])
    assert tensor.data_ptr() == audio.ctypes.data and tensor.stride() == (3,)
    assert tensor.tolist() == [0.0, 3.0, 6.0, 9.0]
    zero_d = np.array(2.5, np.float32)
    zero_d.setflags(write=False)
    assert shared_tensor(zero_d).item() == 2.5
