"""The log-mel front-end: the official one by default (jik876/hifi-gan `meldataset.mel_spectrogram`, bit for bit),
or the config's convention (`mel_convention`, `mel_floor`, `mel_framing`, `mel_magnitude_eps`, `mel_stats`). Its
command is `hifigan mel` (cli/mel.py)."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from hifigan.arrays.padding import padded_min_samples, reflect_pad
from hifigan.arrays.pcm import INT16_HINT, MAX_WAV_VALUE
from hifigan.arrays.shared import shared_tensor
from hifigan.config.stft_geometry import OFFICIAL_EPS, check_framing, check_stft_geometry
from hifigan.errors import AudioError, ConfigError
from hifigan.melconv.conventions import forward, front_end_floor
from hifigan.melconv.filterbank import slaney_basis
from hifigan.melconv.stats import model_stats
from hifigan.messages.plural import count

FAR_OUTSIDE = 4.0  # the peak above which `MelSpectrogram.checked` refuses audio (12 dB over full scale)


class MelSpectrogram:
    """Audio -> log-mel: reflect pad, STFT (Hann, no further padding), |X|, Slaney mel M, the convention's map of M
    (official: ln(max(M, 1e-5))), then (x - mean) / std per bin when the model normalises.

    `framing` "official" pads (n_fft - hop) // 2 per side (frame i covers samples [i hop, (i + 1) hop)); "center"
    pads n_fft // 2, as librosa, torchaudio and Parallel WaveGAN (center=True: 1 + T // hop frames, frame i paired
    with samples [i hop, (i + 1) hop)). `center` is the official code's own argument (torch.stft's center, after
    the official padding). Holds its mel basis and window, built once per (device, dtype) when first needed.
    """

    def __init__(
        self, n_fft: int, num_mels: int, sampling_rate: int, hop_size: int, win_size: int, fmin: float,
        fmax: float | None, center: bool = False, *, convention: str = "official", floor: float | None = None,
        framing: str = "official", magnitude_eps: float = OFFICIAL_EPS,
        stats: str | os.PathLike | Mapping[str, Any] | None = None,
    ) -> None:
        self.n_fft, self.num_mels, self.sampling_rate = n_fft, num_mels, sampling_rate
        self.hop_size, self.win_size, self.fmin, self.fmax, self.center = (
            hop_size, win_size, fmin, fmax, center,
        )
        try:
            check_stft_geometry(n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax)
            check_framing(framing, "mel_framing (or loss_args['mel']['framing'])")
        except ValueError as e:
            raise ConfigError(None, str(e)) from None
        if center and framing == "center":
            raise ValueError("center=True (the official code's argument) with framing 'center' would pad twice")
        if isinstance(magnitude_eps, bool) or not isinstance(magnitude_eps, int | float) or not magnitude_eps >= 0:
            raise ConfigError(None, f"mel_magnitude_eps must be a number >= 0, got {magnitude_eps!r}")
        self.convention, self.floor = convention, front_end_floor(convention, floor)
        self.framing, self.magnitude_eps = framing, magnitude_eps
        normalisation = model_stats(stats, num_mels, convention)
        self._stats_np = None if normalisation is None else (normalisation.mean, normalisation.std)
        self._basis_np = slaney_basis(sampling_rate, n_fft, num_mels, fmin, fmax)
        self._tensors: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (to a worker process) without the tensors built from the basis: the copy builds its own."""
        return {**self.__dict__, "_tensors": {}}

    @property
    def pad(self) -> int:
        """Reflected samples on each side before the STFT."""
        return self.n_fft // 2 if self.framing == "center" else (self.n_fft - self.hop_size) // 2

    @property
    def stft_pad(self) -> int:
        """Reflected samples torch.stft adds on each side itself, after `pad`: n_fft // 2 with the official code's
        center=True, else none."""
        return self.n_fft // 2 if self.center else 0

    @property
    def min_samples(self) -> int:
        """The fewest samples that make one frame: more than `pad` (reflect padding mirrors samples of the signal
        itself) and, once padded, one window of n_fft (official framing: one hop, T >= n_fft - 2 pad). With the
        official code's center=True, torch.stft's own reflect padding of n_fft // 2 makes the window instead, and
        needs more padded samples than it mirrors (T + 2 pad > n_fft // 2): a "window" of stft_pad + 1."""
        return padded_min_samples(self.stft_pad + 1 if self.center else self.n_fft, self.pad)

    def _basis_and_window(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """(basis, window) or (basis, window, mean [num_mels, 1], std [num_mels, 1]) on `device` in `dtype`, cached;
        built afresh and not kept while torch.export traces (they are its fake tensors, and the graph builds them)."""
        key = (device, dtype)
        if torch.compiler.is_exporting():
            return self._build_tensors(device, dtype)
        if key not in self._tensors:
            self._tensors[key] = self._build_tensors(device, dtype)
        return self._tensors[key]

    def _build_tensors(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        basis = torch.from_numpy(self._basis_np).to(device=device, dtype=dtype)
        window = torch.hann_window(self.win_size, device=device, dtype=dtype)
        stats = () if self._stats_np is None else tuple(
            torch.from_numpy(v).to(device=device, dtype=dtype).unsqueeze(-1) for v in self._stats_np)
        return (basis, window, *stats)

    def num_frames(self, num_samples: int) -> int:
        """Frames for `num_samples` samples: T // hop (official framing), 1 + T // hop (center, even n_fft)."""
        padded = num_samples + 2 * (self.pad + self.stft_pad)
        return (padded - self.n_fft) // self.hop_size + 1

    def __call__(self, y: torch.Tensor | np.ndarray) -> torch.Tensor:
        """[B, T] (or [T]) float audio -> [B, num_mels, frames] (or [num_mels, frames]) mel in the convention; a
        float numpy array is taken as the tensor of the same dtype (float64 computes in float64)."""
        y = _audio_tensor(y)
        squeeze = y.dim() == 1
        if squeeze:
            y = y.unsqueeze(0)
        if y.dim() != 2:
            raise ValueError(f"expected audio of shape [B, T], got {tuple(y.shape)}")
        if y.shape[-1] < self.min_samples:
            raise ValueError(f"audio of {count(y.shape[-1], 'sample')} is too short (need at least {self.min_samples})")
        dtype = torch.float64 if y.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=y.device.type, enabled=False):
            mel = self.of_magnitude(self.stft_magnitude(y.to(dtype)))
        return mel.squeeze(0) if squeeze else mel

    def stft_magnitude(self, y: torch.Tensor) -> torch.Tensor:
        """|X| [B, n_fft // 2 + 1, frames] of float audio [B, T], in its dtype: the framing's reflect padding, the
        STFT and the config's epsilon (the exported front-end takes it in float64: export_frontend.FrontEnd)."""
        _, window, *_ = self._basis_and_window(y.device, y.dtype)
        y = reflect_pad(y, self.pad, self.pad)
        spec = torch.stft(
            y, self.n_fft, hop_length=self.hop_size, win_length=self.win_size, window=window,
            center=self.center, pad_mode="reflect", normalized=False, onesided=True, return_complex=True,
        )
        # without an epsilon, |X| as librosa's np.abs and torchaudio's power=1 (its gradient at 0 is 0, not inf)
        return self.magnitude(spec.real, spec.imag) if self.magnitude_eps else spec.abs()

    def magnitude(self, real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
        """|X| of an STFT's real and imaginary parts, with the config's epsilon: sqrt(re^2 + im^2 + eps)."""
        return torch.sqrt(real.square() + imag.square() + self.magnitude_eps)

    def of_magnitude(self, magnitude: torch.Tensor) -> torch.Tensor:
        """The mel of an STFT magnitude [B, n_fft // 2 + 1, frames]: the filterbank, the convention's map and floor,
        then the statistics."""
        basis, _, *stats = self._basis_and_window(magnitude.device, magnitude.dtype)
        mel = forward(torch.matmul(basis, magnitude), self.convention, self.floor)
        return (mel - stats[0]) / stats[1] if stats else mel

    def checked(self, audio: np.ndarray | torch.Tensor, source: str | os.PathLike | None = None) -> torch.Tensor:
        """[T] float audio (a file's samples; a tensor too) -> [num_mels, F] float32 log-mel, once `check` has
        passed."""
        audio = _numpy_samples(audio)
        self.check(audio, source)
        return self(np.ascontiguousarray(audio, dtype=np.float32))

    def check(self, audio: np.ndarray | torch.Tensor, source: str | os.PathLike | None = None) -> None:
        """A one-line AudioError naming `source` for audio too short for one frame, NaN/inf samples, or a peak above
        FAR_OUTSIDE (4, 12 dB over full scale: a float file may go a little over 1, int16 values passed as floats
        are ~1e4); what `checked` refuses, without computing the mel."""
        audio = _numpy_samples(audio)
        if audio.shape[-1] < self.min_samples:
            # at the model's rate: a resampled file's count is not the one it has on disk
            raise AudioError(source, f"too short: {count(audio.shape[-1], 'sample')} at {self.sampling_rate} Hz, "
                                     f"need at least {self.min_samples}")
        if not np.isfinite(audio).all():
            raise AudioError(source, "contains non-finite samples (NaN or inf)")
        peak = float(np.max(np.abs(audio)))
        if peak > FAR_OUTSIDE:
            pcm = peak <= MAX_WAV_VALUE and bool(np.all(audio == np.round(audio)))
            hint = INT16_HINT if pcm else "scale it into [-1, 1]"
            raise AudioError(source, f"samples far outside [-1, 1]: peak {peak:.6g}, more than {FAR_OUTSIDE:g} "
                                     f"({hint})")


def _numpy_samples(audio: np.ndarray | torch.Tensor) -> np.ndarray:
    """An array as it is; a tensor's samples as numpy (detached, on the CPU; float32 unless float64), which `check`'s
    numpy reductions take (numpy's max of a tensor calls torch's, whose arguments differ)."""
    if not isinstance(audio, torch.Tensor):
        return audio
    audio = audio.detach().cpu()
    return (audio if audio.dtype == torch.float64 else audio.float()).numpy()


def _audio_tensor(y: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A float tensor as it is; a float numpy array as a tensor (no copy); anything else, integer samples (int16
    PCM values, whose mel lies 90 dB above the float samples') included, a TypeError naming what is taken."""
    if isinstance(y, torch.Tensor) and y.is_floating_point():
        return y
    if isinstance(y, np.ndarray) and np.issubdtype(y.dtype, np.floating):
        return shared_tensor(np.ascontiguousarray(y))  # a read-only one too, without torch's warning
    got = (f"a numpy array of dtype {y.dtype}" if isinstance(y, np.ndarray) else
           f"a tensor of dtype {y.dtype}" if isinstance(y, torch.Tensor) else type(y).__name__)
    raise TypeError(f"expected float audio [B, T] or [T], a float tensor or numpy array, got {got}")


def mel_spectrogram(
    y: torch.Tensor | np.ndarray, n_fft: int, num_mels: int, sampling_rate: int, hop_size: int, win_size: int,
    fmin: float, fmax: float | None, center: bool = False, **convention: Any,
) -> torch.Tensor:
    """The official `meldataset.mel_spectrogram`, same signature and values: [B, T] (or [T]) -> [B, num_mels, F]
    (a float numpy array is taken too, as the tensor of its dtype); the keyword arguments of MelSpectrogram
    (convention, floor, framing, magnitude_eps, stats) choose another."""
    if not isinstance(convention.get("stats"), str | os.PathLike | None):  # not a file name: built for this call
        # (a mapping of values, or what MelSpectrogram refuses in its words: an array was lru_cache's "unhashable")
        return MelSpectrogram(n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax, center, **convention)(y)
    key = tuple(sorted(convention.items()))
    return _shared_frontend(n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax, center, key)(y)


@functools.lru_cache(maxsize=32)
def _shared_frontend(
    n_fft: int, num_mels: int, sampling_rate: int, hop_size: int, win_size: int,
    fmin: float, fmax: float | None, center: bool, convention: tuple[tuple[str, Any], ...],
) -> MelSpectrogram:
    """One MelSpectrogram per parameter set for `mel_spectrogram`, so its filterbank is built once."""
    return MelSpectrogram(n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax, center, **dict(convention))
