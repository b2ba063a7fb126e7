"""Audio and images as a browser takes them: WAV bytes (every browser plays PCM WAV), data URIs, mel PNGs."""

from __future__ import annotations

import base64
import io
import os
import urllib.parse
from pathlib import Path

import numpy as np

from hifigan.audio import audio_info, read_samples
from hifigan.files.wav_output import wav_container

# WAV keeps the source's sample format where a browser can decode it; anything else becomes 16-bit PCM.
WAV_SUBTYPES = frozenset({"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"})


def wav_subtype(subtype: str) -> str:
    """The WAV format a file of this libsndfile subtype is written as: its own where a browser plays it, 32-bit
    float for 64-bit float, else 16-bit PCM (what a lossy or companded codec decodes to at most)."""
    return subtype if subtype in WAV_SUBTYPES else "FLOAT" if subtype == "DOUBLE" else "PCM_16"


def sample_dtype(subtype: str) -> str:
    """The dtype to read samples in for writing them as WAV `subtype` again without a rounding."""
    return "int16" if subtype in ("PCM_U8", "PCM_16") else "int32" if subtype.startswith("PCM") else "float32"


def wav_bytes(path: str | os.PathLike) -> bytes:
    """The file as WAV bytes: a .wav file as it is, anything else decoded and written as WAV (same rate,
    channels and, where WAV allows, sample format), so the listener hears exactly the file's samples.

    (Chromium's FLAC demuxer fails on libsndfile's FLAC in a data URI, so even FLAC is re-wrapped.)"""
    path = Path(path)
    info = audio_info(path)  # one-line error for a missing, empty or unreadable file
    if info.format == "WAV" and info.subtype in WAV_SUBTYPES:
        return path.read_bytes()
    subtype = wav_subtype(info.subtype)
    return wav_encoded(*read_samples(path, sample_dtype(subtype)), subtype)


def wav_encoded(data: np.ndarray, rate: int, subtype: str) -> bytes:
    """[frames, channels] samples as the bytes of a WAV file in `subtype` (RF64 past RIFF's sizes: wav_container)."""
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format=wav_container(data.size, 1, subtype), subtype=subtype)
    return buffer.getvalue()


def data_uri(payload: bytes, mime: str) -> str:
    """`data:<mime>;base64,...`: the bytes inside the page itself."""
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def relative_url(target: str | os.PathLike, page: str | os.PathLike) -> str:
    """A URL for `target` relative to the folder of `page` (percent-encoded, forward slashes)."""
    relative = os.path.relpath(Path(target).resolve(), Path(page).resolve().parent)
    return urllib.parse.quote(Path(relative).as_posix())


def mel_png(mel: np.ndarray, low: float, high: float) -> bytes:
    """[num_mels, frames] log-mel -> PNG, one pixel per bin and frame, low frequencies at the bottom,
    colours spread over [low, high] (magma)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    plt.imsave(buffer, np.asarray(mel, dtype=np.float32), cmap="magma", vmin=low, vmax=high, origin="lower",
               format="png")
    return buffer.getvalue()
