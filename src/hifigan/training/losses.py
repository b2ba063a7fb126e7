"""HiFi-GAN objectives (paper Sec. 2.4): least-squares GAN, feature matching and mel L1, and the optional
multi-resolution STFT loss of Parallel WaveGAN.

`generator_loss`, `discriminator_loss` and `feature_loss` keep the official signatures and values;
`discriminator_objective` and the `GeneratorObjective` a config builds (hifigan.training.registry) add up the
paper's Eq. 5-6 over named discriminators and named, weighted generator terms, and name every part.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hifigan.config import HifiganConfig
from hifigan.models.discriminators import FeatureMaps, Scores
from hifigan.models.stft import Resolution, check_resolutions, min_samples, padded_stft


def feature_loss(fmap_r: FeatureMaps, fmap_g: FeatureMaps) -> torch.Tensor:
    """Eq. 3 times 2: 2 * sum over discriminators and layers of mean |D_i(x) - D_i(G(s))|."""
    loss = fmap_r[0][0].new_zeros(())
    for dr, dg in zip(fmap_r, fmap_g):
        for rl, gl in zip(dr, dg):
            loss = loss + torch.mean(torch.abs(rl - gl))
    return loss * 2


def discriminator_loss(
    disc_real_outputs: Scores, disc_generated_outputs: Scores
) -> tuple[torch.Tensor, list[float], list[float]]:
    """Eq. 1 (D): sum over discriminators of mean((1 - D(x))^2) + mean(D(G(s))^2); per-D parts as floats."""
    loss = disc_real_outputs[0].new_zeros(())
    r_losses, g_losses = [], []
    for dr, dg in zip(disc_real_outputs, disc_generated_outputs):
        r_loss = torch.mean((1 - dr) ** 2)
        g_loss = torch.mean(dg**2)
        loss = loss + r_loss + g_loss
        r_losses.append(r_loss.item())
        g_losses.append(g_loss.item())
    return loss, r_losses, g_losses


def generator_loss(disc_outputs: Scores) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Eq. 1 (G): sum over discriminators of mean((1 - D(G(s)))^2), and the per-D terms."""
    loss = disc_outputs[0].new_zeros(())
    gen_losses = []
    for dg in disc_outputs:
        g_loss = torch.mean((1 - dg) ** 2)
        gen_losses.append(g_loss)
        loss = loss + g_loss
    return loss, gen_losses


def mel_loss(mel_real: torch.Tensor, mel_generated: torch.Tensor) -> torch.Tensor:
    """Eq. 2: mean |phi(x) - phi(G(s))| over log-mel bins and frames (unweighted)."""
    return F.l1_loss(mel_generated, mel_real)


@dataclass
class LossBreakdown:
    """A total to backpropagate and its named parts as detached 0-dim tensors (no GPU sync until read)."""

    total: torch.Tensor
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def terms(self) -> dict[str, float]:
        """The named parts as floats, moved to the CPU in one transfer."""
        return terms_to_floats(self.tensors)


def terms_to_floats(tensors: dict[str, torch.Tensor]) -> dict[str, float]:
    """0-dim tensors -> floats with one device-to-host copy (one sync per step instead of one per term)."""
    if not tensors:
        return {}
    values = torch.stack([t.detach().float().reshape(()) for t in tensors.values()]).cpu().tolist()
    return dict(zip(tensors, values))


def _named(prefix: str, values: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}/{i}": v.detach() for i, v in enumerate(values)}


def _adversarial_d(real: Scores, generated: Scores) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """`discriminator_loss` with its per-D parts kept as tensors."""
    r_losses = [torch.mean((1 - dr) ** 2) for dr in real]
    g_losses = [torch.mean(dg**2) for dg in generated]
    loss = real[0].new_zeros(())
    for r, g in zip(r_losses, g_losses):
        loss = loss + r + g
    return loss, r_losses, g_losses


def discriminator_objective(scores: dict[str, tuple[Scores, Scores]]) -> LossBreakdown:
    """L_D = sum over the named discriminators of L_adv(D) (Eq. 6, discriminator side).

    `scores`: name -> (real scores, generated scores), one tensor per sub-discriminator.
    """
    total: torch.Tensor | None = None
    terms: dict[str, torch.Tensor] = {}
    for name, (real, generated) in scores.items():
        loss, r, g = _adversarial_d(real, generated)
        total = loss if total is None else total + loss
        terms[f"d/{name}"] = loss.detach()
        terms.update(_named(f"d/{name}_real", r))
        terms.update(_named(f"d/{name}_fake", g))
    if total is None:
        raise ValueError("discriminator_objective needs at least one discriminator's scores")
    return LossBreakdown(total, {"d/total": total.detach(), **terms})


# ---------------------------------------------------------------- multi-resolution STFT loss (Parallel WaveGAN,
# Yamamoto et al. 2020, Eq. 3-5): spectral convergence plus log STFT magnitude, averaged over STFT resolutions

PWG_RESOLUTIONS: tuple[Resolution, ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
"""Parallel WaveGAN's (n_fft, hop, win) triples."""

POWER_FLOOR = 1e-7
"""Parallel WaveGAN's floor on |X|^2 (so |X| >= sqrt(1e-7) ~ 3.2e-4): keeps log|X| and its gradient finite."""


def stft_loss_min_samples(resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS) -> int:
    """The shortest audio (training segment) the loss frames at these resolutions (1025 for Parallel WaveGAN's)."""
    return max(min_samples(r, r[0] // 2) for r in resolutions)


def stft_magnitude(x: Tensor, resolution: Resolution, power_floor: float = POWER_FLOOR) -> Tensor:
    """[B, T] -> [B, n_fft // 2 + 1, 1 + T // hop]: sqrt(max(|X|^2, power_floor)), Hann window.

    Framing is torch.stft's center=True, pad_mode="reflect" (n_fft // 2 reflected samples per side), as Parallel
    WaveGAN's; the audio needs more than n_fft // 2 samples. float32 (float64 for float64 input).
    """
    n_fft = resolution[0]
    spec = padded_stft(x, resolution, n_fft // 2, "hann")
    return torch.sqrt(torch.clamp(spec.real.square() + spec.imag.square(), min=power_floor))


def spectral_convergence(mag_real: Tensor, mag_generated: Tensor) -> Tensor:
    """|| |Y| - |Y_hat| ||_F / || |Y| ||_F, the Frobenius norms taken over the whole batch (not per utterance)."""
    return torch.linalg.vector_norm(mag_real - mag_generated) / torch.linalg.vector_norm(mag_real)


def log_magnitude_loss(mag_real: Tensor, mag_generated: Tensor) -> Tensor:
    """mean |log|Y| - log|Y_hat||, over batch, bins and frames."""
    return F.l1_loss(torch.log(mag_generated), torch.log(mag_real))


def multi_resolution_stft_loss(
    y: Tensor, y_hat: Tensor, resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS, power_floor: float = POWER_FLOOR
) -> tuple[Tensor, Tensor]:
    """(spectral convergence, log STFT magnitude), each the mean over `resolutions`; the loss term is their sum.

    y (real) and y_hat (generated): [B, 1, T] or [B, T], the same shape. y is the target: no gradient flows to it.
    Both results are 0-dim, float32 (float64 for float64 input), also under autocast.
    """
    if y.shape != y_hat.shape:
        raise ValueError(f"the STFT loss compares audio of one shape; got {tuple(y.shape)} and {tuple(y_hat.shape)}")
    if not resolutions:
        raise ValueError("the STFT loss needs at least one resolution")
    y = y.detach().reshape(-1, y.shape[-1])
    y_hat = y_hat.reshape(-1, y_hat.shape[-1])
    sc, mag = [], []
    for resolution in resolutions:
        real = stft_magnitude(y, resolution, power_floor)
        generated = stft_magnitude(y_hat, resolution, power_floor)
        sc.append(spectral_convergence(real, generated))
        mag.append(log_magnitude_loss(real, generated))
    return torch.stack(sc).mean(), torch.stack(mag).mean()


class MultiResolutionSTFTLoss(nn.Module):
    """`multi_resolution_stft_loss` with its resolutions fixed (checked once); forward(y, y_hat) -> (sc, mag)."""

    def __init__(self, resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS, power_floor: float = POWER_FLOOR) -> None:
        super().__init__()
        self.resolutions = check_resolutions(resolutions)
        if isinstance(power_floor, bool) or not isinstance(power_floor, int | float) or not 0 < power_floor < math.inf:
            raise ValueError(f"power_floor must be a finite number > 0, got {power_floor!r}")
        self.power_floor = float(power_floor)

    def forward(self, y: Tensor, y_hat: Tensor) -> tuple[Tensor, Tensor]:
        return multi_resolution_stft_loss(y, y_hat, self.resolutions, self.power_floor)


# ---------------------------------------------------------------- generator loss terms

@dataclass
class GeneratorSide:
    """One discriminator's outputs for the generator step: generated scores, real and generated feature maps."""

    scores: Scores
    fmap_real: FeatureMaps
    fmap_generated: FeatureMaps


@dataclass
class GeneratorInputs:
    """What a generator loss term may use. Audio [B, 1, T]; loss mels [B, num_mels, frames];
    `discriminators`: name -> GeneratorSide (empty during the mel-only warm-up)."""

    y: torch.Tensor
    y_hat: torch.Tensor
    mel: torch.Tensor
    mel_hat: torch.Tensor
    discriminators: dict[str, GeneratorSide] = field(default_factory=dict)


# A generator loss term: (inputs, its weight) -> its weighted contribution and what to log, or None when it does
# not apply (the adversarial terms during the warm-up).
GeneratorTerm = Callable[[GeneratorInputs, float], "LossBreakdown | None"]


class MelTerm:
    """weight * L_mel (Eq. 2); logs the unweighted mel L1 as g/mel_l1. Its arguments (loss_args["mel"]) shape the
    loss mels the step computes (config.mel_kwargs(for_loss=True), which checks them), not the term itself."""

    def __init__(self, config: HifiganConfig, **mel_arguments: Any) -> None:
        config.mel_kwargs(for_loss=True)

    def __call__(self, inputs: GeneratorInputs, weight: float) -> LossBreakdown:
        mel = mel_loss(inputs.mel, inputs.mel_hat)
        return LossBreakdown(weight * mel, {"g/mel_l1": mel.detach()})


def adversarial_term(inputs: GeneratorInputs, weight: float) -> LossBreakdown | None:
    """weight * sum over discriminators of L_adv(G; D) (Eq. 1); logs g/adv_<name> and each sub-discriminator's part."""
    total: torch.Tensor | None = None
    logged: dict[str, torch.Tensor] = {}
    for name, side in inputs.discriminators.items():
        loss, parts = generator_loss(side.scores)
        loss = weight * loss
        total = loss if total is None else total + loss
        logged[f"g/adv_{name}"] = loss.detach()
        logged.update(_named(f"g/adv_{name}", parts))
    return None if total is None else LossBreakdown(total, logged)


def feature_matching_term(inputs: GeneratorInputs, weight: float) -> LossBreakdown | None:
    """weight * L_FM (Eq. 3); `feature_loss` carries the official factor 2, so it is scaled by weight / 2."""
    total: torch.Tensor | None = None
    logged: dict[str, torch.Tensor] = {}
    for name, side in inputs.discriminators.items():
        loss = feature_loss(side.fmap_real, side.fmap_generated) * (weight / 2)
        total = loss if total is None else total + loss
        logged[f"g/fm_{name}"] = loss.detach()
    return None if total is None else LossBreakdown(total, logged)


class STFTTerm:
    """weight * (spectral convergence + log STFT magnitude) at `resolutions` (default Parallel WaveGAN's), |X|^2
    floored at `power_floor` (optional term); the training segment must be long enough to frame at each."""

    def __init__(self, config: HifiganConfig, resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS,
                 power_floor: float = POWER_FLOOR) -> None:
        self.loss = MultiResolutionSTFTLoss(resolutions, power_floor)
        needs = stft_loss_min_samples(self.loss.resolutions)
        if config.segment_size < needs:
            raise ValueError(f"segment_size {config.segment_size} is too short for the STFT loss (needs >= {needs} "
                             f"samples at resolutions {[list(r) for r in self.loss.resolutions]})")

    def __call__(self, inputs: GeneratorInputs, weight: float) -> LossBreakdown:
        sc, mag = self.loss(inputs.y, inputs.y_hat)
        return LossBreakdown(weight * (sc + mag), {"g/stft_sc": sc.detach(), "g/stft_mag": mag.detach()})


@dataclass
class GeneratorObjective:
    """L_G = sum of weight * term over the weighted terms (Eq. 6, generator side: adv 1, fm 2, mel 45), in
    registry order; `terms`: name -> (built term, weight > 0)."""

    terms: dict[str, tuple[GeneratorTerm, float]]

    def __call__(self, inputs: GeneratorInputs) -> LossBreakdown:
        total: torch.Tensor | None = None
        logged: dict[str, torch.Tensor] = {}
        for term, weight in self.terms.values():
            part = term(inputs, weight)
            if part is None:
                continue
            total = part.total if total is None else total + part.total
            logged.update(part.tensors)
        if total is None:
            raise ValueError("no generator loss term applies (the adversarial terms need discriminator outputs)")
        logged["g/total"] = total.detach()
        return LossBreakdown(total, logged)
