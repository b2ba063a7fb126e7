"""hifigan.inference.export_frontend: the model's MelSpectrogram exported by torch's dynamo exporter computes, in
onnxruntime, the mel the package computes, for every front-end convention and both framings, at the shortest audio
the front-end takes and longer. (`hifigan export --frontend`, its check and the deployment script:
test_export_standalone.py.)"""

import numpy as np
import pytest
import torch
from torch import nn

from hifigan.inference.export_frontend import TOLERANCE, FrontEnd, dynamo_onnx_bytes, frontend_path
from hifigan.mel import MelSpectrogram
from hifigan.melconv.conventions import FRONT_END
from tests.support.signals import speechlike
from tests.support.tiny import tiny_config

_RNG = np.random.default_rng(5)
STATS = {"mean": (_RNG.standard_normal(16) - 4).tolist(), "std": (_RNG.random(16) + 0.5).tolist()}
# Each convention in one framing, each framing with four; official framing with n_fft 80 (pad 32) so that every
# front-end's shortest audio is 33 samples, as centred frames' with n_fft 64: one graph holds them all.
FRAMING = dict(zip(FRONT_END, ["official", "center"] * 4, strict=True))
LEAST = 33


def _config(convention: str, framing: str | None = None):
    """Tiny config of `convention` in its FRAMING (or `framing`): official framing with |X|'s epsilon, centred frames
    without it and with mel_stats (not for a linear mel, which takes none); a floor of its own for ln-floor; a window
    shorter than n_fft (centred in it); fmin 50."""
    framing = framing or FRAMING[convention]
    extra = dict(n_fft=80, mel_magnitude_eps=1e-9) if framing == "official" else dict(mel_magnitude_eps=0.0)
    if framing == "center" and not convention.startswith("linear"):
        extra["mel_stats"] = STATS
    return tiny_config(mel_convention=convention, mel_framing=framing, mel_floor=1e-7 if convention == "ln-floor"
                       else None, win_size=48, fmin=50, **extra)


class _Every(nn.Module):
    """The front-ends of every convention in one graph: one export (~7 s on 2 slow cores) instead of eight."""

    def __init__(self) -> None:
        super().__init__()
        self.front_ends = nn.ModuleList(FrontEnd(MelSpectrogram(**_config(name).mel_kwargs())) for name in FRONT_END)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(front_end(audio) for front_end in self.front_ends)


@pytest.fixture(scope="module")
def every():
    """An onnxruntime session of every convention's front-end (outputs named after them)."""
    import onnxruntime as ort

    module = _Every()
    assert {f.mel.min_samples for f in module.front_ends} == {LEAST}
    model = dynamo_onnx_bytes(module, LEAST, 256, list(FRONT_END))
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def _audio(samples: int) -> np.ndarray:
    """[2, samples] float32: a voice, then white noise at -20 dB; each starts with a silent quarter (the floor)."""
    voice = speechlike(samples / 8000 + 0.01, sr=8000, seed=1)[:samples]
    noise = np.random.default_rng(2).standard_normal(samples).astype(np.float32) * 0.1
    audio = np.stack([voice, noise])
    audio[:, : samples // 4] = 0
    return audio


@pytest.mark.parametrize("samples", [LEAST, LEAST + 1, 1003, 4001])
def test_the_exported_front_end_is_melspectrogram(every, samples):
    """Each convention: the frames and values of MelSpectrogram's float64 mel, at the shortest audio, one more sample,
    and longer, within TOLERANCE of the mel's range (float32 rounding: <= 3e-7 of it; a wrong floor, a missing
    epsilon or normalisation, or a one-sample shift of the padding is off by 1e-2 or more); its float32 mel, torch's
    FFT rounding further, within 1e-5."""
    audio = _audio(samples)
    for name, got in zip(FRONT_END, every.run(list(FRONT_END), {"audio": audio}), strict=True):
        mel = MelSpectrogram(**_config(name).mel_kwargs())
        expected, float32 = (mel(torch.from_numpy(audio.astype(d))).numpy() for d in (np.float64, np.float32))
        frames = samples // 16 + (FRAMING[name] == "center")
        assert got.dtype == np.float32 and got.shape == expected.shape == (2, 16, frames), name
        error = np.abs(got - expected).max() / np.abs(expected).max()
        assert error <= TOLERANCE, (name, error)
        assert np.abs(got - float32).max() <= 1e-5 * np.abs(expected).max(), name


def test_frontend_path():
    """NAME.onnx's front-end is NAME.mel.onnx, in the same folder."""
    assert frontend_path("out/g.onnx").as_posix() == "out/g.mel.onnx"
    assert frontend_path("G.ONNX").as_posix() == "G.mel.onnx"



def test_an_n_fft_not_a_power_of_two_exports_within_float_rounding():
    """An odd hop's official framing needs an odd n_fft (hop 441 at 44.1 kHz: 2049), and 24 kHz recipes use 1200:
    ONNX Runtime's own float32 STFT of such a length was 4e-5 to 1e-4 of the mel's range off (export --frontend
    refused the model); the exported front-end agrees with MelSpectrogram's float64 mel to float32 rounding, its
    window (shorter than n_fft, centred) where torch.stft puts it. Both in one graph: one export."""
    import onnxruntime as ort

    class _Both(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.odd = FrontEnd(MelSpectrogram(1023, 16, 16000, 255, 1000, 0, None))
            self.even = FrontEnd(MelSpectrogram(1200, 16, 24000, 300, 1177, 0, None, framing="center"))

        def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.odd(audio), self.even(audio)

    both = _Both()
    model = dynamo_onnx_bytes(both, both.even.mel.min_samples, 2400, ["odd", "even"])
    audio = _audio(3 * 1023)
    got = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(["odd", "even"], {"audio": audio})
    for front_end, mel, frames in zip((both.odd, both.even), got, (3 * 1023 // 255, 1 + 3 * 1023 // 300), strict=True):
        expected = front_end.mel(torch.from_numpy(audio.astype(np.float64))).numpy()
        assert mel.shape == expected.shape == (2, 16, frames)
        assert np.abs(mel - expected).max() / np.abs(expected).max() <= TOLERANCE


# (mel front-end, rate, frames of 1 s): audiosr-48k (n_fft 2048: ONNX's STFT) and a 24 kHz hop-300 model with n_fft
# 1200 (the framed MatMul), each on a clip resampled up from 22.05 kHz, whose top bins sit near the floor.
NEAR_FLOOR = {
    "audiosr-48k": (lambda config: config("audiosr-48k").mel_kwargs(), 48000, (1, 256, 100)),
    "24k-n1200": (lambda config: dict(n_fft=1200, num_mels=80, sampling_rate=24000, hop_size=300, win_size=1200,
                                      fmin=0, fmax=None), 24000, (1, 80, 80)),
}


@pytest.mark.parametrize("name", NEAR_FLOOR)
def test_a_front_end_is_the_float64_mel_to_float32_rounding(name):
    """On a clip resampled up from 22.05 kHz, whose bins above 11 kHz sit near the floor: ONNX Runtime's float32 STFT
    was 4e-3 nats off there at 48 kHz, the float32 strided convolution of an n_fft of 1200 1.2e-4 (the file now takes
    both in float64, FrontEnd). The file is MelSpectrogram's float64 mel within 2e-6 nats at every level (measured
    1.1e-6 and 1.4e-6), and `hifigan mel`'s float32 one within docs/export.md's bound: 1e-6 of the frame's largest M
    over the bin's M, plus that 2e-6."""
    import onnxruntime as ort

    from hifigan.audio import load_audio
    from hifigan.config import load_config
    from hifigan.inference.export_frontend import frontend_onnx_bytes
    from tests.support.files import CORPUS, SHORTEST_CLIPS

    kwargs, rate, shape = NEAR_FLOOR[name]
    mel = MelSpectrogram(**kwargs(load_config))
    audio = load_audio(CORPUS / f"{SHORTEST_CLIPS[0]}.wav", rate, resample=True)[None, :rate]
    got = ort.InferenceSession(frontend_onnx_bytes(mel), providers=["CPUExecutionProvider"]).run(
        ["mel"], {"audio": audio})[0]
    exact = mel(torch.from_numpy(audio.astype(np.float64))).numpy()
    float32 = mel(torch.from_numpy(audio)).numpy()
    assert got.shape == exact.shape == shape
    assert ((exact > np.log(1e-5)) & (exact < -10)).sum() > 50  # the near-floor bins the bound is about
    assert np.abs(got - exact).max() <= 2e-6
    level = np.exp(exact)  # M, at least the floor
    assert (np.abs(got - float32) <= 1e-6 * level.max(axis=1, keepdims=True) / level + 2e-6).all()
