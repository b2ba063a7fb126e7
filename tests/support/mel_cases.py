"""Mels of every convention, built from the same audio with our own copies of each front-end's formula."""

from __future__ import annotations

import functools
import glob

import numpy as np
import torch

from hifigan.arrays.padding import reflect_pad
from hifigan.audio import load_audio
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.config import config_from_dict, load_config
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator
from tests.support.files import CORPUS
from tests.support.tiny import tiny_config

SR, N_FFT, HOP, MELS, FMAX = 22050, 1024, 256, 80, 8000
CLIPS = sorted(glob.glob("data/ljspeech-mini/*.wav"))


@functools.cache
def frontend() -> MelSpectrogram:
    return MelSpectrogram(N_FFT, MELS, SR, HOP, N_FFT, 0, FMAX)


def magnitude(audio: np.ndarray) -> np.ndarray:
    """The official mel magnitude M before its floor, float64 [80, frames] (same STFT and filterbank)."""
    fe = frontend()
    y = reflect_pad(torch.from_numpy(np.asarray(audio, np.float64)).unsqueeze(0), fe.pad, fe.pad)
    spec = torch.stft(y, N_FFT, HOP, N_FFT, torch.hann_window(N_FFT, dtype=torch.float64), center=False,
                      return_complex=True)
    mag = torch.sqrt(spec.real.square() + spec.imag.square() + 1e-9)
    return (torch.from_numpy(fe._basis_np.astype(np.float64)) @ mag)[0].numpy()


def official(audio: np.ndarray) -> np.ndarray:
    """The official front-end's own output, float64."""
    return frontend()(torch.from_numpy(np.asarray(audio, np.float64))).numpy()


@functools.lru_cache(maxsize=8)
def clip(index: int) -> np.ndarray:
    """A bundled clip, float64, peak-normalised to 0 dBFS."""
    a = load_audio(CLIPS[index], SR).astype(np.float64)
    return a / np.abs(a).max()


def convention(m: np.ndarray, name: str) -> np.ndarray:
    """The mel of magnitude `m` in convention `name` (the formulas front-ends use, written out)."""
    p = m**2
    table = {
        "official": lambda: np.log(np.maximum(m, 1e-5)),
        "log10": lambda: np.log10(np.maximum(m, 1e-5)),
        "ln-floor-1e-7": lambda: np.log(np.maximum(m, 1e-7)),
        "ln-floor-1e-10": lambda: np.log(np.maximum(m, 1e-10)),
        "ln-power": lambda: np.log(np.maximum(p, 1e-10)),
        "log10-power": lambda: np.log10(np.maximum(p, 1e-10)),
        "db": lambda: 20 * np.log10(np.maximum(m, 1e-5)),
        "db-power": lambda: 10 * np.log10(np.maximum(p, 1e-10)),
        "linear-magnitude": lambda: m,
        "linear-power": lambda: p,
    }
    return table[name]()


def db_ref_max(m: np.ndarray, top_db: float | None = None) -> tuple[np.ndarray, float]:
    """20*log10(M / max M), optionally clipped top_db below 0 (librosa's ref=np.max); returns (mel, ref)."""
    ref = float(m.max())
    x = 20 * np.log10(np.maximum(m, 1e-5) / ref)
    return (np.maximum(x, -top_db) if top_db else x), ref


def normalised(x: np.ndarray, kind: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-bin mean/std or min-max normalisation of log mel `x`, and the statistics it used."""
    if kind == "meanstd":
        mean, std = x.mean(axis=1), x.std(axis=1) + 1e-3
        return (x - mean[:, None]) / std[:, None], {"mean": mean, "std": std}
    low, high = x.min(axis=1), x.max(axis=1)
    high = np.where(high > low, high, low + 1.0)  # a bin all on its floor
    unit = (x - low[:, None]) / (high - low)[:, None]
    return (unit if kind == "minmax01" else 8 * unit - 4), {"min": low, "max": high}


CFG80 = tiny_config(num_mels=80, n_fft=512, win_size=512)  # official mel, 80 bins at 8 kHz


def model80_and_magnitude(folder) -> np.ndarray:
    """A fresh checkpoint of CFG80 as folder/model.pt, and LJ001-0002's magnitude mel M at 8 kHz (CFG80's STFT and
    filterbank, no floor), float64 [80, frames]: what a front-end's convention is then applied to."""
    torch.manual_seed(0)
    write_checkpoint(folder / "model.pt", generator_payload(Generator(CFG80).state_dict(), CFG80))
    audio = torch.from_numpy(load_audio(CORPUS / "LJ001-0002.wav", 8000, resample=True))
    m = MelSpectrogram(**{**CFG80.mel_kwargs(), "convention": "linear-magnitude", "floor": None})(audio)
    return m.numpy().astype(np.float64)


def with_stats(preset: str, stats) -> MelSpectrogram:
    """The input front-end of `preset` normalised by `stats` (a statistics file's path, or the values), as a config's
    mel_stats gives it."""
    return MelSpectrogram(**config_from_dict({**load_config(preset).to_dict(), "mel_stats": stats}).mel_kwargs())
