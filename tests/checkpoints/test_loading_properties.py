"""Property: whatever bytes, shapes, dtypes and rates reach the loading layer, it either returns the right
values or raises the project's own error (a HifiganError subclass), never anything else."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hifigan.audio import audio_info, load_audio
from hifigan.errors import AudioError, HifiganError, MelError
from hifigan.mel import MelSpectrogram
from hifigan.mel_file import load_mel
from tests.support.tiny import tiny_config

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MELS = 16
FRONTEND = MelSpectrogram(**tiny_config().mel_kwargs())

# Bits of integer precision per PCM subtype: written as int32 with the low bits cleared, they read back exactly.
PCM_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
LOSSY = ["ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM"]
FORMATS = {
    "WAV": ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", *LOSSY],
    "FLAC": ["PCM_S8", "PCM_16", "PCM_24"],
}


def loads_or_own_error(fn, *args, **kwargs):
    """Call fn; a HifiganError means 'refused' (None); any other exception fails the test."""
    try:
        return fn(*args, **kwargs)
    except HifiganError as e:
        assert e.path is not None and e.problem
        assert "\n" not in str(e)
        return None


# ---------------------------------------------------------------- arbitrary bytes
MAGIC = [b"RIFF", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"fLaC", b"\x93NUMPY", b"\x93NUMPY\x01\x00", b"\x80\x04", b"OggS"]
ANY_BYTES = st.binary(max_size=2048) | st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGIC),
                                                 st.binary(max_size=512))


@FAST
@given(data=ANY_BYTES, suffix=st.sampled_from([".wav", ".flac", ".npy"]))
def test_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(data)
    audio = loads_or_own_error(load_audio, path)
    if audio is not None:
        assert audio.dtype == np.float32 and audio.ndim == 1 and audio.size > 0 and np.isfinite(audio).all()
    loads_or_own_error(audio_info, path)
    mel = loads_or_own_error(load_mel, path, MELS)
    if mel is not None:
        assert mel.dtype == np.float32 and mel.shape[0] == MELS and np.isfinite(mel).all()


@FAST
@given(data=st.data())
def test_corrupted_valid_files(tmp_path, data):
    """Valid WAV/FLAC/.npy files with some bytes overwritten or cut off."""
    kind = data.draw(st.sampled_from(["WAV", "FLAC", "NPY"]))
    buffer = io.BytesIO()
    if kind == "NPY":
        np.save(buffer, np.zeros((MELS, 8), np.float32))
    else:
        sf.write(buffer, np.zeros(300, np.int16), 8000, format=kind, subtype="PCM_16")
    blob = bytearray(buffer.getvalue())
    for _ in range(data.draw(st.integers(0, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    blob = blob[: data.draw(st.integers(0, len(blob)))]
    path = tmp_path / f"x.{kind.lower()}"
    path.write_bytes(bytes(blob))
    loads_or_own_error(load_audio, path, 8000)
    loads_or_own_error(audio_info, path)
    loads_or_own_error(load_mel, path, MELS)


# ---------------------------------------------------------------- valid audio files
@st.composite
def audio_files(draw):
    """(format, subtype, rate, samples [frames, channels] as written, expected float32 read-back or None)."""
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    subtype = draw(st.sampled_from(FORMATS[fmt]))
    rate = draw(st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]) | st.integers(1000, 96000))
    channels = draw(st.integers(1, 3))
    frames = draw(st.integers(0, 600) | st.just(0))
    shape = (frames, channels)
    if subtype in PCM_BITS:
        ints = draw(hnp.arrays(np.int32, shape, elements=st.integers(-(2**31), 2**31 - 1)))
        ints &= np.int32(-(1 << (32 - PCM_BITS[subtype])))  # keep only the bits the subtype stores
        return fmt, subtype, rate, ints, (ints / 2.0**31).astype(np.float32)
    if subtype in ("FLOAT", "DOUBLE"):
        dtype = np.float32 if subtype == "FLOAT" else np.float64
        values = draw(hnp.arrays(dtype, shape, elements=st.floats(-4, 4, width=32) | st.sampled_from(
            [0.0, 1.0, -1.0, float("nan"), float("inf"), 1e30])))
        return fmt, subtype, rate, values, values.astype(np.float32)
    values = draw(hnp.arrays(np.float32, shape, elements=st.floats(-1, 1, width=32)))
    return fmt, subtype, rate, values, None  # lossy codec: shape and range only


@FAST
@given(spec=audio_files(), mix=st.booleans())
def test_valid_audio_files(tmp_path, spec, mix):
    fmt, subtype, rate, written, expected = spec
    path = tmp_path / f"x.{fmt.lower()}"
    try:
        sf.write(path, written, rate, format=fmt, subtype=subtype)
    except (sf.LibsndfileError, RuntimeError, ValueError):
        assume(False)  # a combination libsndfile itself cannot write (e.g. an ADPCM rate limit)
    info = loads_or_own_error(audio_info, path)
    if info is None:  # libsndfile writes an empty FLAC as 0 bytes
        assert written.shape[0] == 0 and loads_or_own_error(load_audio, path) is None
        return
    assert (info.samplerate, info.channels) == (rate, written.shape[1])
    audio = loads_or_own_error(load_audio, path, mix_to_mono=mix)
    frames, channels = info.frames, written.shape[1]
    finite = expected is None or np.isfinite(expected).all()
    if frames == 0 or (channels > 1 and not mix) or not finite:
        assert audio is None, "should have been refused"
        return
    assert audio is not None and audio.dtype == np.float32 and audio.shape == (frames,)
    if expected is None:
        assert frames >= written.shape[0] or subtype in LOSSY
        assert np.all(np.abs(audio) <= 1.0)
        return
    assert frames == written.shape[0]
    want = expected.mean(axis=1) if channels > 1 else expected[:, 0]
    np.testing.assert_allclose(audio, want, rtol=1e-6, atol=1e-7)


@FAST
@given(rate=st.integers(4000, 48000), target=st.sampled_from([8000, 16000, 22050]), frames=st.integers(1, 3000))
def test_sample_rate_check_and_resample(tmp_path, rate, target, frames):
    path = tmp_path / "x.wav"
    sf.write(path, np.full(frames, 1000, np.int16), rate, subtype="PCM_16")
    if rate == target:
        np.testing.assert_array_equal(load_audio(path, target), np.full(frames, 1000 / 32768, np.float32))
        return
    with pytest.raises(AudioError, match=f"{rate} Hz"):
        load_audio(path, target)
    audio = loads_or_own_error(load_audio, path, target, resample=True)
    assert audio is not None and audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - frames * target / rate) <= 1


# ---------------------------------------------------------------- .npy mels
DTYPES = [np.float16, np.float32, np.float64, np.longdouble, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.uint16, np.bool_, np.complex64, np.complex128, np.dtype("<U3"), np.dtype("S4"), np.dtype(">f4"),
          np.dtype(">f8"), np.dtype([("a", "<f4")])]


@st.composite
def npy_arrays(draw):
    """Arrays of any rank 0-4, sizes around the expected [1,] MELS x frames, any dtype incl. object and specials."""
    ndim = draw(st.integers(0, 4))
    shape = [draw(st.sampled_from([0, 1, 2, MELS - 1, MELS, MELS + 1, 5])) for _ in range(ndim)]
    if ndim in (2, 3) and draw(st.booleans()):  # often the right number of bins on the bins axis
        shape[-2] = MELS
    if ndim == 3 and draw(st.booleans()):
        shape[0] = 1
    shape = tuple(shape)
    if draw(st.integers(0, 9)) == 0:
        return np.array([{"mel": 1}] * int(np.prod(shape, dtype=int)), dtype=object).reshape(shape)
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    if dtype.kind == "f":
        return draw(float_arrays(shape, dtype))
    return draw(hnp.arrays(dtype, shape))


@st.composite
def float_arrays(draw, shape: tuple[int, ...], dtype: np.dtype):
    """Floats of `dtype`, sometimes with one special value planted (NaN, inf, beyond float32, subnormal)."""
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100, width=32)))
    if values.size and draw(st.booleans()):
        special = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1e39, 65504.0, 5e-324]))
        values.flat[draw(st.integers(0, values.size - 1))] = special
    with np.errstate(over="ignore"):
        return values.astype(dtype)


FLOAT_DTYPES = [np.dtype(d) for d in (np.float16, np.float32, np.float64, np.longdouble, ">f4", ">f8")]
FLOAT_MELS = st.tuples(st.sampled_from([(MELS,), (1, MELS)]), st.integers(0, 6), st.sampled_from(FLOAT_DTYPES)).flatmap(
    lambda t: float_arrays((*t[0], t[1]), t[2]))


def mel_should_load(arr: np.ndarray) -> np.ndarray | None:
    """The spec of load_mel, written independently: the float32 [MELS, T] it must return, or None."""
    if arr.dtype.kind != "f":
        return None
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.shape[0] != MELS or arr.shape[1] == 0 or not np.isfinite(arr).all():
        return None
    if np.abs(arr.astype(np.float64)).max() > np.finfo(np.float32).max:
        return None
    return arr.astype(np.float32)


@FAST
@given(arr=npy_arrays() | FLOAT_MELS)
def test_npy_mels(tmp_path, arr):
    path = tmp_path / "x.npy"
    np.save(path, arr, allow_pickle=arr.dtype == object)
    got = loads_or_own_error(load_mel, path, MELS)
    want = mel_should_load(arr)
    if want is None:
        assert got is None, f"accepted {arr.dtype} {arr.shape}"
        with pytest.raises(MelError):
            load_mel(path, MELS)
    else:
        assert got is not None, f"refused a valid {arr.dtype} {arr.shape}"
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert loads_or_own_error(load_audio, path) is None  # a .npy is never audio


# ---------------------------------------------------------------- the mel path
@FAST
@given(audio=hnp.arrays(np.float32, st.integers(0, 400), elements=st.floats(-1, 1, width=32) | st.sampled_from(
    [0.0, 3.0, -1e20, 1e30])))
@example(audio=np.zeros(FRONTEND.pad, np.float32))  # the longest refused, and the shortest taken
@example(audio=np.zeros(FRONTEND.pad + 1, np.float32))
def test_checked_mel(audio):
    mel = loads_or_own_error(FRONTEND.checked, audio, "clip.wav")
    if audio.size <= FRONTEND.pad:
        assert mel is None
        return
    if mel is None:  # only refused for amplitudes no real recording has
        assert np.abs(audio).max() > 1e6
        return
    assert isinstance(mel, torch.Tensor) and mel.dtype == torch.float32
    assert mel.shape == (MELS, FRONTEND.num_frames(audio.size))
    assert torch.isfinite(mel).all()


@FAST
@given(spec=audio_files())
def test_file_to_mel(tmp_path, spec):
    """The `mel` command's path end to end: file -> load_audio -> MelSpectrogram.checked; shape follows the length."""
    fmt, subtype, rate, written, _ = spec
    path = tmp_path / f"x.{fmt.lower()}"
    try:
        sf.write(path, written, rate, format=fmt, subtype=subtype)
    except (sf.LibsndfileError, RuntimeError, ValueError):
        assume(False)
    audio = loads_or_own_error(load_audio, path, 8000, resample=True, mix_to_mono=True)
    if audio is None:
        return
    mel = loads_or_own_error(FRONTEND.checked, audio, path)
    if mel is not None:
        assert mel.shape == (MELS, FRONTEND.num_frames(audio.size)) and torch.isfinite(mel).all()


def test_own_error_names_the_file(tmp_path):
    path = Path(tmp_path / "clip.wav")
    path.write_bytes(b"nope")
    with pytest.raises(AudioError) as e:
        load_audio(path)
    assert e.value.path == str(path) and str(path) in str(e.value)
