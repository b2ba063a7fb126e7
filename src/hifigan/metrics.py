"""Objective quality metrics for vocoded audio against the recording.

Every metric takes a (reference, generated) pair of mono float signals at the same rate and returns a float;
an undefined value (PESQ finds no speech, no frame is voiced in both, ...) is NaN, never an exception.
`compute_metrics` runs any subset on one pair after checking lengths (and, optionally, a small alignment).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from hifigan.audio import mel_frontend
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError

Signal = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class MetricInfo:
    """How to read one metric: its unit and which direction is better."""

    unit: str
    higher_is_better: bool
    title: str


# Order = table/plot order. Names are the keys of `compute_metrics` and of the JSON report.
METRICS: dict[str, MetricInfo] = {
    "mel_l1": MetricInfo("", False, "mel L1"),
    "mrstft": MetricInfo("", False, "MR-STFT"),
    "mcd": MetricInfo("dB", False, "MCD"),
    "lsd": MetricInfo("dB", False, "LSD"),
    "snr": MetricInfo("dB", True, "SNR"),
    "pesq": MetricInfo("", True, "PESQ (wb)"),
    "stoi": MetricInfo("", True, "STOI"),
    "estoi": MetricInfo("", True, "ESTOI"),
    "f0_rmse_cents": MetricInfo("cents", False, "F0 RMSE"),
    "vuv_f1": MetricInfo("", True, "V/UV F1"),
    "periodicity_rmse": MetricInfo("", False, "periodicity RMSE"),
}

# Parallel WaveGAN's multi-resolution STFT loss (Yamamoto et al., ICASSP 2020): (fft size, hop, window length).
MRSTFT_RESOLUTIONS: tuple[tuple[int, int, int], ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
MCD_COEFFICIENTS = 24  # c1..c24; c0 (overall level) is excluded
SNR_CAP_DB = 100.0  # identical signals would give +inf; 100 dB is above the 16-bit quantisation floor (~98 dB)
PESQ_RATE = 16000  # wide-band PESQ (ITU-T P.862.2) is defined at 16 kHz
LSD_FLOOR = 1e-10  # floor on |STFT|^2 in the log-spectral distance (-100 dB)


@dataclass(frozen=True)
class PitchSettings:
    """pYIN settings shared by the three pitch metrics.

    fmin/fmax 50-550 Hz cover adult speech and keep the HMM small (fast); resolution 0.1 semitone (10 cents)
    is pYIN's pitch-bin width, so F0 values are quantised to 10 cents. The frame is the smallest power of two
    holding four periods of fmin (2048 samples = 93 ms at 22.05 kHz, librosa's default there); the hop is the
    mel hop, so there is one pitch frame per mel frame.
    """

    fmin: float = 50.0
    fmax: float = 550.0
    resolution: float = 0.1

    def frame_length(self, sampling_rate: int) -> int:
        return 1 << math.ceil(math.log2(4 * sampling_rate / self.fmin))


DEFAULT_PITCH = PitchSettings()


@dataclass(frozen=True)
class PitchTrack:
    """One pYIN analysis: F0 in Hz (NaN where unvoiced), the voiced decision, and the voicing probability."""

    f0: np.ndarray
    voiced: np.ndarray
    periodicity: np.ndarray


def _as_batch(y: Signal) -> torch.Tensor:
    y = torch.as_tensor(y, dtype=torch.float32)
    return y.unsqueeze(0) if y.dim() == 1 else y


def _as_numpy(y: Signal) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(y, dtype=np.float32).reshape(-1))


def loss_log_mel(y: Signal, config: HifiganConfig) -> torch.Tensor:
    """The official natural-log mel with the loss settings (fmax_for_loss), [B, num_mels, frames]."""
    return mel_frontend(**config.mel_kwargs(for_loss=True))(_as_batch(y))


# ---------------------------------------------------------------- spectral distances
def mel_l1(reference: np.ndarray | torch.Tensor, generated: np.ndarray | torch.Tensor, config: HifiganConfig) -> float:
    """The paper's validation error: mean |log-mel(x) - log-mel(G(s))| with the loss mel (fmax_for_loss).

    Both signals are trimmed to the shorter length (they differ by less than one hop in copy synthesis).
    """
    ref, gen = _as_batch(reference), _as_batch(generated)
    n = min(ref.shape[-1], gen.shape[-1])
    return torch.nn.functional.l1_loss(loss_log_mel(gen[..., :n], config), loss_log_mel(ref[..., :n], config)).item()


def _stft_magnitude(y: torch.Tensor, n_fft: int, hop: int, win: int, floor: float) -> torch.Tensor:
    """|STFT| with a Hann window, centred reflect-padded frames, sqrt(max(|X|^2, floor))."""
    spec = torch.stft(y, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win, dtype=y.dtype),
                      center=True, pad_mode="reflect", return_complex=True)
    return torch.sqrt(torch.clamp(spec.real.square() + spec.imag.square(), min=floor))


def mrstft_distance(
    reference: Signal, generated: Signal, resolutions: Iterable[tuple[int, int, int]] = MRSTFT_RESOLUTIONS
) -> float:
    """Multi-resolution STFT distance: the auxiliary loss of Parallel WaveGAN (Yamamoto et al., ICASSP 2020).

    Per resolution: spectral convergence ||  |Y| - |X| ||_F / || |Y| ||_F (Y the reference) plus the mean
    |log|Y| - log|X||; magnitudes are sqrt(max(power, 1e-7)) of a Hann STFT with centred frames, as in
    Parallel WaveGAN's loss. Returns mean(SC) + mean(log-mag L1) over the resolutions (0 when identical).
    """
    ref = torch.as_tensor(_as_numpy(reference))
    gen = torch.as_tensor(_as_numpy(generated))
    sc, mag = [], []
    for n_fft, hop, win in resolutions:
        r = _stft_magnitude(ref, n_fft, hop, win, 1e-7)
        g = _stft_magnitude(gen, n_fft, hop, win, 1e-7)
        sc.append((torch.linalg.norm(r - g) / torch.linalg.norm(r)).item())
        mag.append(torch.mean(torch.abs(torch.log(r) - torch.log(g))).item())
    return float(np.mean(sc) + np.mean(mag))


def log_spectral_distance(reference: Signal, generated: Signal, n_fft: int, hop: int, win: int) -> float:
    """Log-spectral distance in dB (Gray & Markel, IEEE TASSP 1976), as used in bandwidth-extension papers.

    mean over frames of sqrt(mean over bins of (10 log10 P_ref - 10 log10 P_gen)^2), P = |STFT|^2 (Hann,
    the model's n_fft/hop/win, centred frames) floored at 1e-10 (-100 dB), so digital silence in both is 0.
    """
    ref = torch.as_tensor(_as_numpy(reference), dtype=torch.float64)
    gen = torch.as_tensor(_as_numpy(generated), dtype=torch.float64)
    db_ref = 20 * torch.log10(_stft_magnitude(ref, n_fft, hop, win, LSD_FLOOR))
    db_gen = 20 * torch.log10(_stft_magnitude(gen, n_fft, hop, win, LSD_FLOOR))
    return torch.sqrt(torch.mean((db_ref - db_gen).square(), dim=0)).mean().item()


def mel_cepstrum(log_mel: np.ndarray, num_coefficients: int = MCD_COEFFICIENTS) -> np.ndarray:
    """Mel-cepstrum c_1..c_D of natural-log mel frames [num_mels, T] -> [D, T].

    With the N band centres read as equally spaced points w_n = pi (2n+1) / (2N) of a mel-warped frequency
    axis, the cepstrum in the usual convention log|H(w)| = c_0 + 2 sum_d c_d cos(d w) is c_d = DCT-II(x)_d / (2N)
    (scipy's unnormalised DCT-II); this is the DCT analogue of a warped cepstrum, read from the official mel.
    """
    from scipy.fft import dct

    n = log_mel.shape[0]
    coefficients = dct(np.asarray(log_mel, dtype=np.float64), type=2, axis=0) / (2 * n)
    return coefficients[1:num_coefficients + 1]


def mel_cepstral_distortion(
    reference: Signal, generated: Signal, config: HifiganConfig, num_coefficients: int = MCD_COEFFICIENTS
) -> float:
    """Mel-cepstral distortion in dB (Kubichek, IEEE PACRIM 1993):
    mean over frames of (10 / ln 10) sqrt(2 sum_{d=1..24} (c_d - c'_d)^2).

    The cepstra are `mel_cepstrum` (c_1..c_24, c_0 excluded) of the official loss log-mel of each signal.
    Frames are paired one-to-one in time (copy synthesis is time-aligned; no DTW).
    """
    ref, gen = _as_numpy(reference), _as_numpy(generated)
    n = min(len(ref), len(gen))
    d = min(num_coefficients, config.num_mels - 1)
    c_ref = mel_cepstrum(loss_log_mel(ref[:n], config)[0].numpy(), d)
    c_gen = mel_cepstrum(loss_log_mel(gen[:n], config)[0].numpy(), d)
    per_frame = (10.0 / np.log(10.0)) * np.sqrt(2.0 * np.sum((c_ref - c_gen) ** 2, axis=0))
    return float(per_frame.mean())


# ---------------------------------------------------------------- waveform and perceptual
def snr(reference: Signal, generated: Signal) -> float:
    """Signal-to-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2), capped at SNR_CAP_DB (identical -> cap).

    Sample-exact: it measures phase as well as magnitude, so a vocoder's (inaudible) phase changes lower it.
    NaN for a silent reference.
    """
    x = _as_numpy(reference).astype(np.float64)
    y = _as_numpy(generated).astype(np.float64)
    n = min(len(x), len(y))
    signal, noise = np.sum(x[:n] ** 2), np.sum((x[:n] - y[:n]) ** 2)
    if signal == 0:
        return math.nan
    if noise == 0:
        return SNR_CAP_DB
    return float(min(SNR_CAP_DB, 10.0 * np.log10(signal / noise)))


def pesq_wb(reference: Signal, generated: Signal, sampling_rate: int) -> float:
    """Wide-band PESQ, MOS-LQO (ITU-T P.862.2; `pesq` package, mode 'wb'); 4.64 for identical speech.

    Both signals are resampled to 16 kHz with soxr (hifigan.audio.resample_audio). NaN when PESQ finds no
    utterance, the signal is too short, or either signal is digital silence.
    """
    from pesq import PesqError, pesq

    from hifigan.audio import resample_audio

    ref, gen = _as_numpy(reference), _as_numpy(generated)
    if not ref.any() or not gen.any():  # the pesq package divides by the peak and fails on digital silence
        return math.nan
    if sampling_rate != PESQ_RATE:
        ref, gen = resample_audio(ref, sampling_rate, PESQ_RATE), resample_audio(gen, sampling_rate, PESQ_RATE)
    try:
        return float(pesq(PESQ_RATE, ref, gen, "wb"))
    except PesqError:
        return math.nan


def stoi(reference: Signal, generated: Signal, sampling_rate: int, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al., IEEE TASLP 2011), or with `extended` ESTOI (Jensen &
    Taal, IEEE TASLP 2016); `pystoi`, which resamples to 10 kHz itself. 1 for identical signals.

    NaN for a silent reference or when fewer than 30 non-silent 25.6 ms frames remain (pystoi would return 1e-5).
    """
    from pystoi import stoi as _stoi

    ref = _as_numpy(reference)
    if not ref.any():
        return math.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(ref, _as_numpy(generated), sampling_rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return math.nan
    return value


def estoi(reference: Signal, generated: Signal, sampling_rate: int) -> float:
    """Extended STOI (Jensen & Taal, 2016), see `stoi`."""
    return stoi(reference, generated, sampling_rate, extended=True)


# ---------------------------------------------------------------- pitch
def pitch_track(audio: Signal, sampling_rate: int, hop_length: int, settings: PitchSettings = DEFAULT_PITCH
                ) -> PitchTrack:
    """pYIN (Mauch & Dixon, ICASSP 2014; librosa.pyin) with `settings`; periodicity = pYIN's voiced probability."""
    import librosa

    f0, voiced, probability = librosa.pyin(
        _as_numpy(audio), fmin=settings.fmin, fmax=settings.fmax, sr=sampling_rate,
        frame_length=settings.frame_length(sampling_rate), hop_length=hop_length, resolution=settings.resolution,
    )
    return PitchTrack(f0=f0, voiced=voiced.astype(bool), periodicity=np.nan_to_num(probability))


def _paired(reference: PitchTrack, generated: PitchTrack) -> tuple[PitchTrack, PitchTrack]:
    """Both tracks cut to their common number of frames."""
    n = min(len(reference.f0), len(generated.f0))
    return tuple(PitchTrack(t.f0[:n], t.voiced[:n], t.periodicity[:n]) for t in (reference, generated))


def f0_rmse_cents(reference: PitchTrack, generated: PitchTrack) -> float:
    """RMS of 1200 log2(F0_gen / F0_ref) over frames voiced in both (CARGAN, Morrison et al., ICLR 2022).

    pYIN quantises F0 to `resolution` (10 cents), so a value is exact to about +-10 cents. NaN if no frame is
    voiced in both.
    """
    ref, gen = _paired(reference, generated)
    both = ref.voiced & gen.voiced & np.isfinite(ref.f0) & np.isfinite(gen.f0)
    if not both.any():
        return math.nan
    cents = 1200.0 * np.log2(gen.f0[both] / ref.f0[both])
    return float(np.sqrt(np.mean(cents**2)))


def vuv_f1(reference: PitchTrack, generated: PitchTrack) -> float:
    """F1 of the generated voiced/unvoiced decisions against the reference's (voiced = positive class):
    2 TP / (2 TP + FP + FN) (CARGAN, Morrison et al., 2022). NaN when neither signal has a voiced frame.
    """
    ref, gen = _paired(reference, generated)
    tp = np.sum(ref.voiced & gen.voiced)
    wrong = np.sum(ref.voiced != gen.voiced)
    return math.nan if tp + wrong == 0 else float(2 * tp / (2 * tp + wrong))


def periodicity_rmse(reference: PitchTrack, generated: PitchTrack) -> float:
    """RMS difference of the per-frame periodicity over all frames (CARGAN, Morrison et al., 2022).

    CARGAN reads periodicity from torchcrepe; here it is pYIN's voiced probability (in [0, 1]).
    """
    ref, gen = _paired(reference, generated)
    return float(np.sqrt(np.mean((ref.periodicity - gen.periodicity) ** 2)))


# ---------------------------------------------------------------- pairing and the whole set
def match_lengths(reference: np.ndarray, generated: np.ndarray, max_difference: int, source: str | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Trim both to the shorter length when they differ by at most `max_difference` samples (one hop), else error."""
    diff = abs(len(reference) - len(generated))
    if diff > max_difference:
        raise HifiganError(source, f"lengths differ by {diff} samples (reference {len(reference)}, generated "
                                   f"{len(generated)}); at most one hop ({max_difference}) is trimmed")
    n = min(len(reference), len(generated))
    return reference[:n], generated[:n]


def align(reference: np.ndarray, generated: np.ndarray, max_shift: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Undo a small delay: the lag in [-max_shift, max_shift] with the largest normalised cross-correlation.

    A positive lag means the generated signal is late (generated[n + lag] ~ reference[n]); both are cut to
    their overlap. max_shift = 0 returns the inputs unchanged.
    """
    if max_shift <= 0:
        return reference, generated, 0
    n = min(len(reference), len(generated))
    x, y = reference[:n].astype(np.float64), generated[:n].astype(np.float64)
    best, best_lag = -np.inf, 0
    for lag in range(-max_shift, max_shift + 1):
        a, b = (x[: n - lag], y[lag:]) if lag >= 0 else (x[-lag:], y[: n + lag])
        score = np.dot(a, b) / (np.sqrt(np.dot(a, a) * np.dot(b, b)) + 1e-20)
        if score > best + 1e-12:
            best, best_lag = score, lag
    if best_lag >= 0:
        return reference[: n - best_lag], generated[best_lag:n], best_lag
    return reference[-best_lag:n], generated[: n + best_lag], best_lag


def metric_names(metrics: Iterable[str] | None) -> list[str]:
    """The requested metric names (all when None) in METRICS order; an unknown name is an error."""
    requested = set(METRICS) if metrics is None else set(metrics)
    unknown = sorted(requested - set(METRICS))
    if unknown:
        raise HifiganError(None, f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}")
    return [m for m in METRICS if m in requested]


def min_samples() -> int:
    """The shortest pair the full set accepts: the largest MR-STFT frame (reflect padding needs > n_fft/2)."""
    return max(n_fft for n_fft, _, _ in MRSTFT_RESOLUTIONS)


def compute_metrics(
    reference: Signal,
    generated: Signal,
    config: HifiganConfig,
    metrics: Iterable[str] | None = None,
    *,
    max_shift: int = 0,
    pitch: PitchSettings = DEFAULT_PITCH,
    source: str | None = None,
) -> dict[str, float]:
    """All (or the named) metrics of one pair at config.sampling_rate, in METRICS order; NaN where undefined.

    Lengths may differ by up to one hop (trimmed); with max_shift > 0 a delay of up to that many samples is
    removed first (`align`). `source` names the pair in errors.
    """
    names = metric_names(metrics)
    ref, gen = match_lengths(_as_numpy(reference), _as_numpy(generated), config.hop_size, source)
    ref, gen, _ = align(ref, gen, max_shift)
    if len(ref) < min_samples():
        raise HifiganError(source, f"too short: {len(ref)} samples, the metrics need at least {min_samples()}")
    sr, hop = config.sampling_rate, config.hop_size
    out: dict[str, float] = {}
    tracks: tuple[PitchTrack, PitchTrack] | None = None
    for name in names:
        if name in _TRACK_METRICS:
            if tracks is None:  # one pYIN pass per signal serves all three pitch metrics
                tracks = (pitch_track(ref, sr, hop, pitch), pitch_track(gen, sr, hop, pitch))
            out[name] = _TRACK_METRICS[name](*tracks)
        else:
            out[name] = _SIGNAL_METRICS[name](ref, gen, config)
    return out


_SIGNAL_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, HifiganConfig], float]] = {
    "mel_l1": mel_l1,
    "mrstft": lambda ref, gen, config: mrstft_distance(ref, gen),
    "mcd": mel_cepstral_distortion,
    "lsd": lambda ref, gen, c: log_spectral_distance(ref, gen, c.n_fft, c.hop_size, c.win_size),
    "snr": lambda ref, gen, config: snr(ref, gen),
    "pesq": lambda ref, gen, config: pesq_wb(ref, gen, config.sampling_rate),
    "stoi": lambda ref, gen, config: stoi(ref, gen, config.sampling_rate),
    "estoi": lambda ref, gen, config: estoi(ref, gen, config.sampling_rate),
}
_TRACK_METRICS: dict[str, Callable[[PitchTrack, PitchTrack], float]] = {
    "f0_rmse_cents": f0_rmse_cents, "vuv_f1": vuv_f1, "periodicity_rmse": periodicity_rmse,
}
