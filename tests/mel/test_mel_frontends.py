"""Each front-end convention is what its project computes: Parallel WaveGAN's `logmelfilterbank` (with its stats.h5
and stats.npy normalisation, and ESPnet2's feats_stats.npz), SpeechBrain's torchaudio mel, and every forward map of
hifigan.melconv written out; each map inverts exactly, and bad settings are one-line errors (bad statistics:
test_mel_stats_files.py)."""

from __future__ import annotations

import functools
import json

import h5py
import librosa
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hifigan.audio import load_audio
from hifigan.config import config_from_dict, load_config
from hifigan.config.files import preset_names
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram, mel_spectrogram
from hifigan.melconv.conventions import CONVENTIONS, FRONT_END, forward, to_official
from hifigan.melconv.model import ModelMel
from hifigan.melconv.stats import load_stats, model_stats
from tests.support.files import CORPUS
from tests.support.mel_cases import CLIPS, FMAX, HOP, MELS, N_FFT, SR, clip, convention, magnitude, with_stats

CLIP = CORPUS / "LJ001-0001.wav"
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@functools.cache
def speech(rate: int) -> np.ndarray:
    """The bundled LJSpeech clip resampled to `rate`, float64."""
    return load_audio(CLIP, rate, resample=True).astype(np.float64)


def pwg_logmelfilterbank(audio: np.ndarray) -> np.ndarray:
    """Parallel WaveGAN's `logmelfilterbank` (bin/preprocess.py) with hifigan.v1.yaml's 24 kHz features, written out:
    librosa STFT (center=True, reflect), |X|, librosa's float32 Slaney basis, log10(max(1e-10, .)); [80, frames]."""
    x_stft = librosa.stft(audio, n_fft=2048, hop_length=300, win_length=1200, window="hann", pad_mode="reflect")
    spc = np.abs(x_stft).T
    mel_basis = librosa.filters.mel(sr=24000, n_fft=2048, n_mels=80, fmin=80, fmax=7600)
    return np.log10(np.maximum(1e-10, np.dot(spc, mel_basis.T))).T


@functools.cache
def pwg_reference() -> np.ndarray:
    return pwg_logmelfilterbank(speech(24000))


def test_pwg_24k_is_parallel_wavegans_logmelfilterbank():
    ours = MelSpectrogram(**load_config("pwg-24k").mel_kwargs())
    audio = speech(24000)
    mel = ours(torch.from_numpy(audio)).numpy()
    assert mel.shape == pwg_reference().shape == (80, 1 + len(audio) // 300) == (80, ours.num_frames(len(audio)))
    np.testing.assert_allclose(mel, pwg_reference(), rtol=0, atol=1e-10)


def _scaler(mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's StandardScaler over frames, as compute_statistics.py stores it (float32 mean_ and scale_)."""
    return mel.mean(axis=1).astype(np.float32), mel.std(axis=1).astype(np.float32)


def test_pwg_normalisation_from_its_stats_h5_and_stats_npy(tmp_path):
    """normalize.py: (x - mean) / scale with the float32 statistics of stats.h5 ("mean", "scale") or stats.npy."""
    reference = pwg_reference()
    mean, scale = _scaler(reference)
    with h5py.File(tmp_path / "stats.h5", "w") as f:
        f.create_dataset("mean", data=mean)
        f.create_dataset("scale", data=scale)
    np.save(tmp_path / "stats.npy", np.stack([mean, scale]))
    expected = (reference - mean.astype(np.float64)[:, None]) / scale.astype(np.float64)[:, None]
    audio = torch.from_numpy(speech(24000))
    for name in ("stats.h5", "stats.npy"):
        mel = with_stats("pwg-24k", str(tmp_path / name))(audio).numpy()
        np.testing.assert_allclose(mel, expected, rtol=0, atol=1e-9, err_msg=name)
    # A config file names its statistics relative to its own folder.
    (tmp_path / "pwg.json").write_text(json.dumps({**load_config("pwg-24k").to_dict(), "mel_stats": "stats.h5"}))
    mel = MelSpectrogram(**load_config(tmp_path / "pwg.json").mel_kwargs())(audio).numpy()
    np.testing.assert_allclose(mel, expected, rtol=0, atol=1e-9)


def test_espnet2_feats_stats_npz(tmp_path):
    """ESPnet2's GlobalMVN: mean = sum / count, std = sqrt(max(sum_square / count - mean^2, 1e-20))."""
    reference = pwg_reference()
    frames = reference.T
    np.savez(tmp_path / "feats_stats.npz", count=np.int64(frames.shape[0]), sum=frames.sum(axis=0),
             sum_square=(frames**2).sum(axis=0))
    mean = frames.sum(axis=0) / frames.shape[0]
    std = np.sqrt(np.maximum((frames**2).sum(axis=0) / frames.shape[0] - mean**2, 1e-20))
    mel = with_stats("pwg-24k", str(tmp_path / "feats_stats.npz"))(torch.from_numpy(speech(24000))).numpy()
    np.testing.assert_allclose(mel, (reference - mean[:, None]) / std[:, None], rtol=0, atol=1e-9)
    assert abs(mel.mean()) < 1e-9 and abs(mel.std() - 1) < 0.05  # normalised by its own statistics


def test_speechbrain_16k_is_torchaudios_centred_magnitude_mel():
    """torchaudio MelSpectrogram defaults (center=True, reflect, Hann, power=1, Slaney) then ln(clamp(., 1e-5))."""
    audio = speech(16000)
    spec = torch.stft(torch.from_numpy(audio), 1024, 256, 1024, torch.hann_window(1024, dtype=torch.float64),
                      center=True, pad_mode="reflect", return_complex=True).abs().numpy()
    basis = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=80, fmin=0, fmax=8000).astype(np.float64)
    expected = np.log(np.maximum(basis @ spec, 1e-5))
    mel = mel_spectrogram(torch.from_numpy(audio), **load_config("speechbrain-16k").mel_kwargs()).numpy()
    assert mel.shape == expected.shape == (80, 1 + len(audio) // 256)
    np.testing.assert_allclose(mel, expected, rtol=0, atol=1e-12)


# (front-end convention, floor) -> the formula of tests/support/mel_cases.py that writes it out
WRITTEN_OUT = {
    ("official", None): "official", ("log10", 1e-5): "log10", ("ln-floor", 1e-7): "ln-floor-1e-7",
    ("ln-floor", None): "ln-floor-1e-10", ("ln-power", None): "ln-power", ("log10-power", 1e-10): "log10-power",
    ("db", None): "db", ("linear-magnitude", None): "linear-magnitude", ("linear-power", None): "linear-power",
}


@pytest.mark.parametrize(("name", "floor"), list(WRITTEN_OUT))
def test_each_front_end_convention_is_its_formula(name, floor):
    audio = clip(1)[:20000] * 0.3
    frontend = MelSpectrogram(N_FFT, MELS, SR, HOP, N_FFT, 0, FMAX, convention=name, floor=floor)
    mel = frontend(torch.from_numpy(audio)).numpy()
    expected = convention(magnitude(audio), WRITTEN_OUT[name, floor])
    np.testing.assert_allclose(mel, expected, rtol=1e-12, atol=1e-12)


def test_official_front_end_is_unchanged_bit_for_bit():
    y = torch.from_numpy(clip(0)[:30000].astype(np.float32))
    default = MelSpectrogram(N_FFT, MELS, SR, HOP, N_FFT, 0, FMAX)(y)
    explicit = MelSpectrogram(N_FFT, MELS, SR, HOP, N_FFT, 0, FMAX, convention="official", floor=1e-5,
                              framing="official", magnitude_eps=1e-9, stats=None)(y)
    assert torch.equal(default, explicit)


AMPLITUDE_FLOORS = (1e-12, 1e-10, 1e-7, 1e-5)


def _floor(name: str, amplitude: float) -> float | None:
    """The mel_floor giving amplitude floor `amplitude` (a power convention floors M^2)."""
    conv = CONVENTIONS[name]
    return None if conv.linear else 1e-5 if name == "official" else amplitude**conv.power


@FAST
@given(index=st.integers(0, len(CLIPS) - 1), gain_db=st.floats(-40, 0), name=st.sampled_from(FRONT_END),
       amplitude=st.sampled_from(AMPLITUDE_FLOORS))
def test_every_forward_map_inverts_to_the_official_mel(index, gain_db, name, amplitude):
    """to_official(forward(M)) = ln(max(M, 1e-5)) exactly wherever the convention's floor is at most 1e-5."""
    m = magnitude(clip(index)[:12000] * 10 ** (gain_db / 20))
    x = forward(m, name, _floor(name, amplitude))
    np.testing.assert_allclose(to_official(x, name), np.log(np.maximum(m, 1e-5)), rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(index=st.integers(0, len(CLIPS) - 1), source=st.sampled_from(FRONT_END), target=st.sampled_from(FRONT_END),
       floors=st.tuples(st.sampled_from(AMPLITUDE_FLOORS), st.sampled_from(AMPLITUDE_FLOORS)).map(sorted),
       normalised=st.booleans())
def test_conversion_to_a_model_is_its_front_end(index, source, target, floors, normalised):
    """A mel of one convention converts to a model's (its forward map, floor and normalisation) exactly where the
    source floor is at or below the model's."""
    low, high = floors
    if source == "official":
        low = 1e-5
    if target == "official":
        high = 1e-5
    if low > high:
        return
    m = magnitude(clip(index)[:12000] * 0.1)
    target_floor = _floor(target, high)
    expected = forward(m, target, target_floor)
    stats = None
    if normalised:
        stats = model_stats({"mean": expected.mean(axis=1), "std": expected.std(axis=1) + 0.1}, MELS, target)
        expected = (expected - stats.mean[:, None]) / stats.std[:, None]
    model = ModelMel(target, target_floor if target != "official" else 1e-5, stats, MELS, SR, HOP)
    got = model.convert(forward(m, source, _floor(source, low)), source)
    scale = 1.0 if CONVENTIONS[target].log else float(np.abs(expected).max())  # linear values: relative
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10 * scale)


def test_settings_are_checked_when_the_front_end_is_built():
    base = (N_FFT, MELS, SR, HOP, N_FFT, 0, FMAX)
    cases = [
        (dict(convention="log2"), r"mel_convention .* 'log2' is unknown; choose from official, ln-floor, log10"),
        (dict(framing="centre"), r"mel_framing .* 'centre' is unknown; choose from official, center"),
        (dict(floor=1e-7), r"the official floor is 1e-5; use mel_convention .*ln-floor"),
        (dict(convention="linear-power", floor=1e-10), r"a linear mel has no floor"),
        (dict(convention="log10", floor=-1.0), r"mel_floor .* must be a number > 0"),
        (dict(magnitude_eps=-1e-9), r"mel_magnitude_eps must be a number >= 0"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ConfigError, match=message) as e:
            MelSpectrogram(*base, **kwargs)
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"center=True .* with framing 'center' would pad twice"):
        MelSpectrogram(*base, center=True, framing="center")


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1025, 5000), framing=st.sampled_from(["official", "center"]), official_center=st.booleans())
def test_frame_count_follows_the_framing(n, framing, official_center):
    frontend = MelSpectrogram(N_FFT, MELS, SR, HOP, N_FFT, 0, FMAX, official_center and framing == "official",
                              framing=framing)
    frames = frontend(torch.zeros(n)).shape[1]
    assert frames == frontend.num_frames(n)
    if framing == "center":
        assert frames == 1 + n // HOP
    elif not official_center:
        assert frames == n // HOP


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_builds_its_input_and_loss_front_ends(preset):
    cfg = load_config(preset)
    y = torch.from_numpy(speech(cfg.sampling_rate)[: cfg.sampling_rate])
    for frontend in (MelSpectrogram(**cfg.mel_kwargs()), MelSpectrogram(**cfg.mel_kwargs(for_loss=True))):
        mel = frontend(y)
        assert mel.shape == (cfg.num_mels, frontend.num_frames(len(y))) and torch.isfinite(mel).all()
    with pytest.raises(ConfigError, match=r"loss_args\['mel'\]: unknown argument 'stats' \(known: n_fft, .*framing"):
        config_from_dict({**cfg.to_dict(), "loss_args": {"mel": {"stats": "x.h5"}}})


def test_espnet2_feats_stats_are_of_log10_mels_unless_the_file_says(tmp_path):
    """ESPnet2's TTS features are log10 (LogMelFbank's log_base 10): a GlobalMVN-normalised mel with its
    feats_stats.npz converts back to the official mel; a `convention` array in the file overrides the base."""
    official = mel_spectrogram(torch.from_numpy(speech(22050)), **load_config("v1").mel_kwargs()).double().numpy()
    log10 = official / np.log(10)
    frames = log10.T
    sums = {"count": np.int64(frames.shape[0]), "sum": frames.sum(axis=0), "sum_square": (frames**2).sum(axis=0)}
    np.savez(tmp_path / "feats_stats.npz", **sums)
    stats = load_stats(tmp_path / "feats_stats.npz", 80)
    assert stats.base == "log10"
    normalised = (log10 - stats.mean[:, None]) / stats.std[:, None]
    back = ModelMel.of(load_config("v1")).convert(normalised, "meanstd", stats)
    np.testing.assert_allclose(back, np.maximum(official, np.log(1e-5)), rtol=0, atol=1e-9)
    np.savez(tmp_path / "ln_stats.npz", **sums, convention="official")
    assert load_stats(tmp_path / "ln_stats.npz", 80).base == "official"
