"""HiFi-GAN objectives (paper Sec. 2.4): least-squares GAN, feature matching and mel L1, and the optional
multi-resolution STFT loss of Parallel WaveGAN.

`generator_loss`, `discriminator_loss` and `feature_loss` keep the official signatures and values;
`discriminator_objective` and the `GeneratorObjective` a config builds (hifigan.training.registry) add up the
paper's Eq. 5-6 over named discriminators and named, weighted generator terms, and name every part.

What they log is one convention (descript-audio-codec's): each named term is the paper's loss unweighted (L_adv,
L_FM as Eq. 3 defines it, L_mel, the STFT loss's two parts), and `g/total` / `d/total` alone is the weighted sum
that is optimised: g/total = sum of weight * term.
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
from hifigan.models.named_parts import SegmentTooShort
from hifigan.models.stft import (
    POWER_FLOOR,
    PWG_RESOLUTIONS,
    Resolution,
    check_resolutions,
    multi_resolution_stft_loss,
    stft_loss_min_samples,
)


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
    loss, r_losses, g_losses = adversarial_d(disc_real_outputs, disc_generated_outputs)
    return loss, [r.item() for r in r_losses], [g.item() for g in g_losses]


def adversarial_d(real: Scores, generated: Scores) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """`discriminator_loss` with its per-D parts kept as tensors (no host sync)."""
    r_losses = [torch.mean((1 - dr) ** 2) for dr in real]
    g_losses = [torch.mean(dg**2) for dg in generated]
    loss = real[0].new_zeros(())
    for r, g in zip(r_losses, g_losses):
        loss = loss + r + g
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


def discriminator_objective(scores: dict[str, tuple[Scores, Scores]]) -> LossBreakdown:
    """L_D = sum over the named discriminators of L_adv(D) (Eq. 6, discriminator side).

    `scores`: name -> (real scores, generated scores), one tensor per sub-discriminator.
    """
    total: torch.Tensor | None = None
    terms: dict[str, torch.Tensor] = {}
    for name, (real, generated) in scores.items():
        loss, r, g = adversarial_d(real, generated)
        total = loss if total is None else total + loss
        terms[f"d/{name}"] = loss.detach()
        terms.update(_named(f"d/{name}_real", r))
        terms.update(_named(f"d/{name}_fake", g))
    if total is None:
        raise ValueError("discriminator_objective needs at least one discriminator's scores")
    return LossBreakdown(total, {"d/total": total.detach(), **terms})


# ---------------------------------------------------------------- multi-resolution STFT loss (Parallel WaveGAN,
# Yamamoto et al. 2020, Eq. 3-5): spectral convergence plus log STFT magnitude, averaged over STFT resolutions
# (computed by hifigan.models.stft.multi_resolution_stft_loss, which the MR-STFT metric shares)

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


# A generator loss term: (inputs, its weight) -> its weighted contribution and what to log (unweighted), or None
# when it does not apply (the adversarial terms during the warm-up).
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
    """weight * sum over discriminators of L_adv(G; D) (Eq. 1); logs each unweighted: g/adv_<name>, the sum of its
    sub-discriminators' parts g/adv_<name>/<i>."""
    total: torch.Tensor | None = None
    logged: dict[str, torch.Tensor] = {}
    for name, side in inputs.discriminators.items():
        loss, parts = generator_loss(side.scores)
        logged[f"g/adv_{name}"] = loss.detach()
        logged.update(_named(f"g/adv_{name}", parts))
        loss = weight * loss
        total = loss if total is None else total + loss
    return None if total is None else LossBreakdown(total, logged)


def feature_matching_term(inputs: GeneratorInputs, weight: float) -> LossBreakdown | None:
    """weight * L_FM (Eq. 3) per discriminator, logged unweighted as g/fm_<name>; `feature_loss` carries the
    official factor 2, so it is scaled by weight / 2 (and halved, exactly, for the log)."""
    total: torch.Tensor | None = None
    logged: dict[str, torch.Tensor] = {}
    for name, side in inputs.discriminators.items():
        twice = feature_loss(side.fmap_real, side.fmap_generated)
        logged[f"g/fm_{name}"] = twice.detach() / 2
        loss = twice * (weight / 2)
        total = loss if total is None else total + loss
    return None if total is None else LossBreakdown(total, logged)


class STFTTerm:
    """weight * (spectral convergence + log STFT magnitude) at `resolutions` (default Parallel WaveGAN's), |X|^2
    floored at `power_floor` (optional term), each logged unweighted (g/stft_sc, g/stft_mag); the training segment
    must be long enough to frame at each (its floor: stft_floor)."""

    def __init__(self, config: HifiganConfig, resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS,
                 power_floor: float = POWER_FLOOR) -> None:
        self.loss = MultiResolutionSTFTLoss(resolutions, power_floor)
        needs = stft_loss_min_samples(self.loss.resolutions)
        if config.segment_size < needs:
            raise SegmentTooShort(f"segment_size {config.segment_size} is too short for the STFT loss (needs >= "
                                  f"{needs} samples at resolutions {[list(r) for r in self.loss.resolutions]})")

    def __call__(self, inputs: GeneratorInputs, weight: float) -> LossBreakdown:
        sc, mag = self.loss(inputs.y, inputs.y_hat)
        return LossBreakdown(weight * (sc + mag), {"g/stft_sc": sc.detach(), "g/stft_mag": mag.detach()})


def stft_floor(config: HifiganConfig, resolutions: tuple[tuple[int, int, int], ...], **_: Any) -> int:
    """The MR-STFT loss's: its longest frame, reflect-padded by n_fft // 2."""
    return stft_loss_min_samples(check_resolutions(resolutions))


@dataclass
class GeneratorObjective:
    """L_G = sum of weight * term over the weighted terms (Eq. 6, generator side: adv 1, fm 2, mel 45), in
    registry order, logged as g/total; `terms`: name -> (built term, weight > 0). A term returns its weighted
    contribution and logs its parts unweighted (the module's convention)."""

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
