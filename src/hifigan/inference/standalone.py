"""Vocode a WAV with an exported .onnx from numpy and onnxruntime alone: the model's mel computed from the facts the
file records (export_facts), for a deployment without this package; copy this file there (docs/export.md).

It imports nothing of hifigan, torch or librosa on purpose: tests hold it to `MelSpectrogram` and `hifigan vocode`.
Run: `python standalone.py MODEL.onnx IN.wav OUT.wav` (16-bit PCM mono WAV at the model's rate, in and out).
"""

from __future__ import annotations

import json
import sys
import wave
from collections.abc import Mapping

import numpy as np

# mel_convention -> (log, power, gain): gain * log(max(M ** power, floor)), or M ** power when log is None.
CONVENTIONS = {"official": (np.log, 1, 1.0), "ln-floor": (np.log, 1, 1.0), "log10": (np.log10, 1, 1.0),
               "ln-power": (np.log, 2, 1.0), "log10-power": (np.log10, 2, 1.0), "db": (np.log10, 1, 20.0),
               "linear-magnitude": (None, 1, 1.0), "linear-power": (None, 2, 1.0)}
OFFICIAL_FLOOR, DEFAULT_FLOOR = 1e-5, 1e-10  # a null mel_floor: official's, every other log convention's


def slaney_mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """librosa.filters.mel's default [n_mels, n_fft // 2 + 1]: Slaney mel scale, Slaney area normalisation."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp

    def hz_to_mel(f: float) -> float:
        return min_log_mel + np.log(f / min_log_hz) / logstep if f >= min_log_hz else f / f_sp

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(sr / 2 if fmax is None else fmax), n_mels + 2))
    ramps = edges[:, None] - np.fft.rfftfreq(n_fft, 1.0 / sr)[None, :]
    widths = np.diff(edges)
    lower, upper = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    return np.maximum(0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def log_mel(audio: np.ndarray, facts: Mapping[str, str]) -> np.ndarray:
    """[T] float audio in [-1, 1] -> the model's mel, float32 [num_mels, frames]: reflect padding (the framing's),
    periodic Hann window centred in n_fft, |X| = sqrt(re^2 + im^2 + eps), Slaney mel M, the convention's map of M,
    then (x - mean) / std per bin for a normalised model. Computed in float64."""
    f = {key: json.loads(value) for key, value in facts.items() if key not in ("mel", "io", "mel_convention",
                                                                            "mel_framing")}
    n_fft, hop, win = f["n_fft"], f["hop_size"], f["win_size"]
    pad = n_fft // 2 if facts["mel_framing"] == "center" else (n_fft - hop) // 2
    y = np.pad(np.asarray(audio, dtype=np.float64), pad, mode="reflect")
    window = np.zeros(n_fft)
    left = (n_fft - win) // 2
    window[left:left + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    starts = hop * np.arange(1 + (len(y) - n_fft) // hop)
    spec = np.fft.rfft(y[starts[:, None] + np.arange(n_fft)] * window, axis=-1).T
    magnitude = np.sqrt(spec.real ** 2 + spec.imag ** 2 + f["mel_magnitude_eps"])
    m = slaney_mel_basis(f["sampling_rate"], n_fft, f["num_mels"], f["fmin"], f["fmax"]) @ magnitude
    log, power, gain = CONVENTIONS[facts["mel_convention"]]
    x = m ** power
    if log is not None:
        floor = f["mel_floor"] or (OFFICIAL_FLOOR if facts["mel_convention"] == "official" else DEFAULT_FLOOR)
        x = gain * log(np.maximum(x, floor))
    if f["mel_stats"] is not None:
        x = (x - np.asarray(f["mel_stats"]["mean"])[:, None]) / np.asarray(f["mel_stats"]["std"])[:, None]
    return x.astype(np.float32)


def read_wav(path: str, rate: int) -> np.ndarray:
    """A 16-bit PCM mono WAV at `rate` as float32 in [-1, 1] (int16 / 32768, as the official code reads it)."""
    with wave.open(path) as w:
        if (w.getsampwidth(), w.getnchannels(), w.getframerate()) != (2, 1, rate):
            raise SystemExit(f"{path}: need 16-bit PCM mono at {rate} Hz")
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def write_wav(path: str, audio: np.ndarray, rate: int) -> None:
    """Float audio as 16-bit PCM: x * 32768 truncated, clipped at full scale (as `hifigan vocode` writes it)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(audio * 32768, -32768, 32767).astype("<i2").tobytes())


def main(model: str, wav_in: str, wav_out: str) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    facts = session.get_modelmeta().custom_metadata_map
    if "mel_convention" not in facts:
        raise SystemExit(f"{model}: records no mel facts (exported before they were recorded: export it again)")
    rate = int(facts["sampling_rate"])
    mel = log_mel(read_wav(wav_in, rate), facts)
    write_wav(wav_out, session.run(["audio"], {"mel": mel[None]})[0][0], rate)


if __name__ == "__main__":
    main(*sys.argv[1:])
