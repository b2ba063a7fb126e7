"""The mel front-end equals the official computation and an independent librosa one."""


import librosa
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.audio import load_audio
from hifigan.config import load_config
from hifigan.errors import AudioError, ConfigError
from hifigan.mel import FAR_OUTSIDE, MelSpectrogram, mel_spectrogram
from tests.support.files import CORPUS
from tests.support.official_reference import reference_mel

V1 = load_config("v1")


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_audio(CORPUS / "LJ001-0001.wav", 22050)


def librosa_mel(y: np.ndarray, fmax) -> np.ndarray:
    """Independent path: numpy reflect pad, librosa STFT (float64), sqrt(|X|^2 + 1e-9), librosa basis, log."""
    pad = (1024 - 256) // 2
    y = np.pad(y.astype(np.float64), (pad, pad), mode="reflect")
    spec = librosa.stft(y, n_fft=1024, hop_length=256, win_length=1024, window="hann", center=False)
    mag = np.sqrt(np.abs(spec) ** 2 + 1e-9)
    basis = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=fmax, dtype=np.float64)
    return np.log(np.maximum(basis @ mag, 1e-5))


@pytest.mark.parametrize("fmax", [8000, None])
def test_equals_independent_librosa_computation(speech, fmax):
    expected = librosa_mel(speech, fmax)
    exact = mel_spectrogram(torch.from_numpy(speech.astype(np.float64))[None], 1024, 80, 22050, 256, 1024, 0, fmax)
    assert exact.shape == (1, *expected.shape) == (1, 80, len(speech) // 256)
    assert np.abs(exact[0].numpy() - expected).max() < 1e-6
    # float32 (what the official code and training use): rounding shows only in bins near the 1e-5 floor.
    fp32 = mel_spectrogram(torch.from_numpy(speech)[None], 1024, 80, 22050, 256, 1024, 0, fmax)[0].numpy()
    error = np.abs(fp32 - expected)
    assert np.quantile(error, 0.999) < 1e-4 and error.max() < 1e-3


def test_equals_official_formulation(speech):
    y = torch.from_numpy(speech)[None]
    ours = mel_spectrogram(y, **V1.mel_kwargs())
    official = reference_mel(y, 1024, 80, 22050, 256, 1024, 0, 8000)
    assert torch.allclose(ours, official, atol=1e-5, rtol=0)


def test_fmax_none_means_half_the_rate(speech):
    y = torch.from_numpy(speech[:22050])[None]
    assert torch.equal(mel_spectrogram(y, 1024, 80, 22050, 256, 1024, 0, None),
                       mel_spectrogram(y, 1024, 80, 22050, 256, 1024, 0, 11025))


def test_silence_hits_the_log_floor():
    mel = mel_spectrogram(torch.zeros(1, 4096), **V1.mel_kwargs())
    # sqrt(1e-9) per bin through the Slaney basis stays below the 1e-5 clamp: log(1e-5) everywhere.
    assert torch.allclose(mel, torch.full_like(mel, np.log(1e-5)))


def test_batch_equals_items(speech):
    frontend = MelSpectrogram(**V1.mel_kwargs())
    a, b = torch.from_numpy(speech[:8192]), torch.from_numpy(speech[8192:16384])
    batch = frontend(torch.stack([a, b]))
    assert torch.equal(batch[0], frontend(a)) and torch.equal(batch[1], frontend(b))


def test_basis_and_window_cached_per_device_and_dtype():
    frontend = MelSpectrogram(**V1.mel_kwargs())
    y32 = torch.randn(1, 2048) * 0.1
    frontend(y32)
    first = frontend._basis_and_window(torch.device("cpu"), torch.float32)
    frontend(y32)
    assert frontend._basis_and_window(torch.device("cpu"), torch.float32)[0] is first[0]
    out64 = frontend(y32.double())
    assert out64.dtype == torch.float64
    assert set(frontend._tensors) == {(torch.device("cpu"), torch.float32), (torch.device("cpu"), torch.float64)}
    assert torch.allclose(out64.float(), frontend(y32), atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=385, max_value=6000))
def test_frame_count_is_length_over_hop(n):
    frontend = MelSpectrogram(**V1.mel_kwargs())
    mel = frontend(torch.zeros(n))
    assert mel.shape == (80, n // 256) == (80, frontend.num_frames(n))


def test_too_short_audio_is_an_error():
    with pytest.raises(ValueError, match="too short"):
        mel_spectrogram(torch.zeros(1, 384), **V1.mel_kwargs())


def test_checked_names_non_finite_samples(speech):
    audio = speech.copy()
    audio[1000] = np.nan
    with pytest.raises(AudioError, match=r"^clip.wav: contains non-finite samples \(NaN or inf\)$"):
        MelSpectrogram(**V1.mel_kwargs()).checked(audio, "clip.wav")
    audio[1000] = -np.inf
    with pytest.raises(AudioError, match="non-finite samples"):
        MelSpectrogram(**V1.mel_kwargs()).checked(audio, "clip.wav")


@pytest.mark.parametrize(("scale", "problem"), [
    (None, r"peak 2\d{4}, more than 4 \(int16 sample values\? divide by 32768\)"),  # int16 values as floats
    (50.0, r"peak 50, more than 4 \(scale it into \[-1, 1\]\)"),
    (1e30, r"peak 1e\+30, more than 4 \(scale it into"),  # overflowed the mel before; now named as too loud
])
def test_checked_refuses_audio_far_outside_full_scale(speech, scale, problem):
    peak = np.abs(speech).max()
    audio = np.round(speech * 32768) if scale is None else (speech / peak * scale).astype(np.float32)
    with pytest.raises(AudioError, match=r"^clip.wav: samples far outside \[-1, 1\]: " + problem):
        MelSpectrogram(**V1.mel_kwargs()).checked(audio.astype(np.float32), "clip.wav")


def test_checked_takes_a_float_file_a_little_over_full_scale(speech):
    """Up to FAR_OUTSIDE (4, 12 dB over) passes: float WAVs may exceed 1 legitimately; the mel is the plain one."""
    audio = (speech / np.abs(speech).max() * FAR_OUTSIDE).astype(np.float32)
    frontend = MelSpectrogram(**V1.mel_kwargs())
    assert torch.equal(frontend.checked(audio, "clip.wav"), frontend(torch.from_numpy(audio)))


def test_an_odd_n_fft_minus_hop_pads_as_the_official_code():
    """int((n_fft - hop) / 2) samples per side: 24 for 64 - 15 (a config refuses the pair; the function takes it)."""
    y = 0.1 * torch.randn(1, 400, generator=torch.Generator().manual_seed(0))
    ours = mel_spectrogram(y, 64, 8, 8000, 15, 64, 0, None)
    official = reference_mel(y, 64, 8, 8000, 15, 64, 0, None)
    assert ours.shape == official.shape == (1, 8, 26)
    assert torch.allclose(ours, official, atol=1e-5, rtol=0)


def test_mel_spectrogram_takes_a_float_numpy_array_as_its_tensor(speech):
    """Official equality stays a tensor's; a numpy array is that tensor (float64 computes in float64)."""
    want = mel_spectrogram(torch.from_numpy(speech)[None], **V1.mel_kwargs())
    assert torch.equal(mel_spectrogram(speech[None], **V1.mel_kwargs()), want)
    assert torch.equal(MelSpectrogram(**V1.mel_kwargs())(speech), want[0])
    as64 = speech.astype(np.float64)
    got = mel_spectrogram(as64, **V1.mel_kwargs())
    assert got.dtype == torch.float64 and torch.equal(got, mel_spectrogram(torch.from_numpy(as64), **V1.mel_kwargs()))


@pytest.mark.parametrize(("y", "got"), [
    (np.zeros(4000, np.int16), "a numpy array of dtype int16"), ([0.0] * 4000, "list"),
    # int16 PCM values as a tensor (torch.frombuffer of a WAV's data): refused as the numpy array is, not a mel
    # 90 dB too loud; so are the other non-float tensors
    (torch.zeros(4000, dtype=torch.int16), "a tensor of dtype torch.int16"),
    (torch.zeros(4000, dtype=torch.bool), "a tensor of dtype torch.bool"),
    (torch.zeros(4000, dtype=torch.complex64), "a tensor of dtype torch.complex64"),
])
def test_mel_spectrogram_names_what_it_takes(y, got):
    with pytest.raises(TypeError, match=rf"expected float audio \[B, T\] or \[T\], a float tensor or numpy array, "
                                        rf"got {got}$"):
        mel_spectrogram(y, **V1.mel_kwargs())
    with pytest.raises(TypeError, match=rf", got {got}$"):
        MelSpectrogram(**V1.mel_kwargs())(y)


def test_mel_spectrogram_refuses_statistics_of_a_kind_it_does_not_take_in_one_line():
    """An array is neither a statistics file nor a mapping: the front-end's own refusal, where the cached path said
    lru_cache's "unhashable type: 'numpy.ndarray'"; a mapping of values is taken as MelSpectrogram takes it."""
    for stats in (np.ones(8), [1.0] * 8):
        with pytest.raises(ConfigError) as info:
            mel_spectrogram(torch.zeros(1, 400), 64, 8, 8000, 16, 64, 0, None, stats=stats)
        assert str(info.value) == ("mel_stats must be a statistics file or a mapping of mean and std, got "
                                   f"{type(stats).__name__}")
    normalised = mel_spectrogram(torch.zeros(1, 400), 64, 8, 8000, 16, 64, 0, None, convention="log10",
                                 stats={"mean": [1.0] * 8, "std": [2.0] * 8})
    plain = mel_spectrogram(torch.zeros(1, 400), 64, 8, 8000, 16, 64, 0, None, convention="log10")
    assert torch.allclose(normalised, (plain - 1.0) / 2.0)


def test_checked_refuses_audio_of_exactly_the_padding_as_too_short():
    """pad samples make no frame: an AudioError naming the file, not the front-end's ValueError; one more passes."""
    frontend = MelSpectrogram(**V1.mel_kwargs())
    audio = np.full(frontend.pad, 0.1, dtype=np.float32)
    rate = frontend.sampling_rate
    with pytest.raises(AudioError, match=rf"^clip.wav: too short: {frontend.pad} samples at {rate} Hz, need at least "
                                         rf"{frontend.pad + 1}$"):
        frontend.checked(audio, "clip.wav")
    assert frontend.checked(np.full(frontend.pad + 1, 0.1, dtype=np.float32), "clip.wav").shape[0] == V1.num_mels


@pytest.mark.parametrize("changes", [
    {"hop_size": 512},  # pad 256: 300 samples pass the padding but pad to 812 < n_fft
    # n_fft 256 at 22050 Hz: 40 mel filters, as 80 would leave four with no FFT bin (refused)
    {"n_fft": 256, "win_size": 256, "num_mels": 40},  # pad 0: one window needs one hop of samples
    {"n_fft": 256, "win_size": 256, "hop_size": 64, "num_mels": 40},  # pad 96: the padding rules
    {"framing": "center"},  # pad n_fft // 2
    {"center": True},  # the official code's argument: torch.stft pads n_fft // 2 more
    {"hop_size": 300, "n_fft": 2048, "win_size": 1200, "framing": "center"},
])
def test_checked_refuses_audio_one_sample_short_of_a_frame(changes):
    """min_samples - 1 samples: a one-line AudioError naming the file (not stft's RuntimeError); min_samples make
    exactly the frames num_frames says, at least one."""
    frontend = MelSpectrogram(**{**V1.mel_kwargs(), **changes})
    need, rate = frontend.min_samples, frontend.sampling_rate
    with pytest.raises(AudioError,
                       match=rf"^clip.wav: too short: {need - 1} samples at {rate} Hz, need at least {need}$"):
        frontend.checked(np.full(need - 1, 0.1, dtype=np.float32), "clip.wav")
    with pytest.raises(ValueError, match=rf"too short \(need at least {need}\)"):
        frontend(torch.full((need - 1,), 0.1))
    with pytest.raises(AudioError, match=rf"^clip.wav: too short: 1 sample at {rate} Hz, need at least {need}$"):
        frontend.checked(np.full(1, 0.1, dtype=np.float32), "clip.wav")
    with pytest.raises(ValueError, match=rf"^audio of 1 sample is too short \(need at least {need}\)$"):
        frontend(torch.full((1,), 0.1))
    mel = frontend.checked(np.full(need, 0.1, dtype=np.float32), "clip.wav")
    assert mel.shape[1] == frontend.num_frames(need) >= 1


@pytest.mark.parametrize("n_fft, hop, mels", [(1024, 256, 80), (512, 256, 40), (128, 96, 16)])
def test_min_samples_is_the_fewest_that_torch_itself_frames(n_fft, hop, mels):
    """Official framing, by torch's own reflect pad and STFT (not by our check): min_samples give a frame, one fewer
    none. V1 is bound by the reflection (pad + 1 = 385), the others by the window (n_fft - 2 pad = hop)."""
    frontend = MelSpectrogram(**{**V1.mel_kwargs(), "n_fft": n_fft, "win_size": n_fft, "hop_size": hop,
                                 "num_mels": mels})
    pad = frontend.pad

    def frames(length: int) -> int:
        try:
            padded = torch.nn.functional.pad(torch.full((1, length), 0.1), (pad, pad), mode="reflect")
            return torch.stft(padded, n_fft, hop, window=torch.hann_window(n_fft), center=False,
                              return_complex=True).shape[-1]
        except RuntimeError:  # reflection past the signal, or a window longer than the padded signal
            return 0

    assert frames(frontend.min_samples) >= 1 and frames(frontend.min_samples - 1) == 0


def test_center_true_needs_only_what_torch_stft_mirrors():
    """With center=True torch.stft's own padding makes the window, so a clip shorter than one hop still gives a
    frame: hop 512 (pad 256) needs 257 samples, not 512."""
    frontend = MelSpectrogram(**{**V1.mel_kwargs(), "hop_size": 512, "center": True})
    assert frontend.min_samples == 257
    mel = frontend.checked(np.full(257, 0.1, dtype=np.float32), "clip.wav")
    assert mel.shape[1] == frontend.num_frames(257) == 2


@given(peak=st.floats(4.001, 1e6), at=st.integers(0, 9999))
@settings(max_examples=25, deadline=None)
def test_checked_measures_the_peak_of_negative_samples_too(speech, peak, at):
    """A negative sample far below -1 is as far outside full scale as a positive one (the peak is of |x|)."""
    audio = (speech / np.abs(speech).max() * 0.5).astype(np.float32)
    audio[at] = -peak
    with pytest.raises(AudioError, match="samples far outside"):
        MelSpectrogram(**V1.mel_kwargs()).checked(audio, "clip.wav")


def test_checked_takes_int16_minus_32768_as_an_int16_value(speech):
    """-32768, the lowest int16 sample, peaks at exactly 32768: still int16 values passed as floats."""
    audio = np.round(speech / np.abs(speech).max() * 1000)
    audio[5] = -32768
    with pytest.raises(AudioError, match=r"peak 32768, more than 4 \(int16 sample values\? divide by 32768\)"):
        MelSpectrogram(**V1.mel_kwargs()).checked(audio.astype(np.float32), "clip.wav")


def test_checked_takes_a_tensor_as_its_array(speech):
    """A tensor (a model's audio, requiring grad; bfloat16) met numpy's reductions: "RuntimeError: Can't call numpy()
    on Tensor that requires grad", or for another numpy's max as torch's, "TypeError: max(): argument 'dim' must be
    int, not NoneType". Now it is checked and computed as its samples' array."""
    frontend = MelSpectrogram(**V1.mel_kwargs())
    audio = torch.from_numpy(speech)
    want = frontend.checked(speech, "clip.wav")
    assert torch.equal(frontend.checked(audio.clone().requires_grad_(True), "clip.wav"), want)
    rounded = audio.bfloat16()
    assert torch.equal(frontend.checked(rounded, "clip.wav"), frontend.checked(rounded.float().numpy(), "clip.wav"))
    broken = audio.clone()
    broken[100] = float("nan")
    with pytest.raises(AudioError, match=r"^clip.wav: contains non-finite samples \(NaN or inf\)$"):
        frontend.checked(broken, "clip.wav")
    with pytest.raises(AudioError, match=r"^clip.wav: samples far outside \[-1, 1\]: peak \d+, more than 4 \(int16 "
                                         r"sample values\? divide by 32768\)$"):
        frontend.check((audio * 32767).to(torch.int16), "clip.wav")


def test_center_true_bound_by_torch_stft_s_reflection_needs_more_than_it_mirrors():
    """Hop = n_fft = 1024 (pad 0): torch.stft's own reflection of 512 samples binds, not ours: 513 samples frame,
    512 are refused, as torch would refuse them."""
    frontend = MelSpectrogram(**{**V1.mel_kwargs(), "hop_size": 1024, "win_size": 1024, "center": True})
    assert frontend.pad == 0 and frontend.min_samples == 513
    assert frontend.checked(np.full(513, 0.1, dtype=np.float32), "clip.wav").shape[1] == frontend.num_frames(513)
    with pytest.raises(RuntimeError):  # torch itself, past our check
        torch.stft(torch.full((1, 512), 0.1), 1024, 1024, window=torch.hann_window(1024), center=True,
                   pad_mode="reflect", return_complex=True)
