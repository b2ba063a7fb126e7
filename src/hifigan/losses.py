"""HiFi-GAN objectives (paper Sec. 2.4): least-squares GAN, feature matching and mel L1.

`generator_loss`, `discriminator_loss` and `feature_loss` keep the official signatures and values;
`generator_objective` and `discriminator_objective` add up the paper's Eq. 5-6 and name every term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from hifigan.models.discriminators import FeatureMaps, Scores


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


def discriminator_objective(
    mpd_real: Scores, mpd_generated: Scores, msd_real: Scores, msd_generated: Scores
) -> LossBreakdown:
    """L_D = L_adv(MPD) + L_adv(MSD) (Eq. 6, discriminator side)."""
    loss_f, r_f, g_f = _adversarial_d(mpd_real, mpd_generated)
    loss_s, r_s, g_s = _adversarial_d(msd_real, msd_generated)
    total = loss_f + loss_s
    terms = {"d/total": total.detach(), "d/mpd": loss_f.detach(), "d/msd": loss_s.detach()}
    for name, values in (("d/mpd_real", r_f), ("d/mpd_fake", g_f), ("d/msd_real", r_s), ("d/msd_fake", g_s)):
        terms.update(_named(name, values))
    return LossBreakdown(total, terms)


def generator_objective(
    mpd_generated: Scores | None,
    msd_generated: Scores | None,
    mpd_fmap_real: FeatureMaps | None,
    mpd_fmap_generated: FeatureMaps | None,
    msd_fmap_real: FeatureMaps | None,
    msd_fmap_generated: FeatureMaps | None,
    mel_real: torch.Tensor,
    mel_generated: torch.Tensor,
    lambda_fm: float = 2.0,
    lambda_mel: float = 45.0,
) -> LossBreakdown:
    """L_G = L_adv + lambda_fm * L_FM + lambda_mel * L_mel (Eq. 6, generator side).

    `feature_loss` already carries the official factor 2, so lambda_fm scales it by lambda_fm / 2.
    Pass None for the discriminator outputs to get the mel term alone (generator warm-up).
    """
    mel = mel_loss(mel_real, mel_generated)
    total = lambda_mel * mel
    terms = {"g/mel_l1": mel.detach()}
    if mpd_generated is not None:
        adv_f, parts_f = generator_loss(mpd_generated)
        adv_s, parts_s = generator_loss(msd_generated)
        fm_f = feature_loss(mpd_fmap_real, mpd_fmap_generated) * (lambda_fm / 2)
        fm_s = feature_loss(msd_fmap_real, msd_fmap_generated) * (lambda_fm / 2)
        total = total + adv_f + adv_s + fm_f + fm_s
        terms.update({"g/adv_mpd": adv_f.detach(), "g/adv_msd": adv_s.detach(), "g/fm_mpd": fm_f.detach(),
                      "g/fm_msd": fm_s.detach()})
        terms.update(_named("g/adv_mpd", parts_f))
        terms.update(_named("g/adv_msd", parts_s))
    terms["g/total"] = total.detach()
    return LossBreakdown(total, terms)
