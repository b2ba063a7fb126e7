"""A model's own mels of audio with digital silence: with the official epsilon under the square root (|X| >=
sqrt(1e-9)), silence sits above a floor of 1e-10 at a level no round floor explains; check-mel and vocode must
still read them as the model's."""

import librosa
import numpy as np
import pytest
import torch

from hifigan.audio import load_audio
from hifigan.cli import main
from hifigan.mel import MelSpectrogram
from hifigan.melconv import ModelMel, detect, forward
from tests.support.files import CORPUS
from tests.support.tiny import tiny_config

CLIP = CORPUS / "LJ001-0002.wav"


def _speech_after_silence() -> np.ndarray:
    speech = load_audio(CLIP, 8000, resample=True)[:8000]
    return np.concatenate([np.zeros(2000, np.float32), speech])


@pytest.mark.parametrize(("convention", "floor"), [("log10", None), ("db", 1e-10), ("ln-floor", 1e-10)])
def test_the_models_own_mel_of_silence_fits_the_model(convention, floor):
    cfg = tiny_config(mel_convention=convention, mel_floor=floor)
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    mel = frontend(torch.from_numpy(_speech_after_silence())).numpy()
    floor_value = float(forward(np.array([frontend.floor]), convention, frontend.floor)[0])
    assert mel.min() > floor_value + 1  # the case: silence lies well above the floor, on no round power of ten
    verdict = detect(mel, cfg.num_mels, ModelMel.of(cfg))
    assert verdict.matches, verdict.line()


def test_check_mel_says_the_models_own_mel_fits(tmp_path, capsys):
    """`hifigan mel` then `hifigan check-mel` with the same log10 config: exit 0, 'fits the model's mel'."""
    import json

    import soundfile as sf

    cfg = tiny_config(mel_convention="log10")
    (tmp_path / "model.json").write_text(json.dumps(cfg.to_dict()))
    sf.write(tmp_path / "speech.wav", _speech_after_silence(), 8000, subtype="PCM_16")
    config = ["--config", str(tmp_path / "model.json")]
    assert main(["mel", str(tmp_path / "speech.wav"), "-o", str(tmp_path / "speech.npy"), *config]) == 0
    capsys.readouterr()
    assert main(["check-mel", *config, str(tmp_path / "speech.npy")]) == 0, capsys.readouterr().out
    assert "fits the model's mel" in capsys.readouterr().out


def test_the_models_filterbank_is_computed_when_asked_not_when_the_model_is_read():
    """ModelMel.of is read by vocode, serve, export and the datasets, which never ask for the filterbank that
    detection knows silence by: it (librosa.filters' import, ~1 s a command) waits for detection. Asked, it is the
    front-end's own; None where a linear mel makes it of no use."""
    cfg = tiny_config(mel_convention="log10")
    model = ModelMel.of(cfg)
    assert "row_sums" not in vars(model)  # functools.cached_property stores it on first use
    basis = librosa.filters.mel(sr=cfg.sampling_rate, n_fft=cfg.n_fft, n_mels=cfg.num_mels, fmin=cfg.fmin, fmax=None)
    assert model.row_sums.shape == (cfg.num_mels,)
    assert np.allclose(model.row_sums, basis.sum(axis=1), rtol=1e-6)
    assert ModelMel.of(tiny_config(mel_convention="linear-magnitude")).row_sums is None
