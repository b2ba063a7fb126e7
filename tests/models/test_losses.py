"""Loss functions on hand-computed tensors (official signatures and values)."""

import pytest
import torch

from hifigan.training.losses import (
    GeneratorInputs,
    GeneratorObjective,
    GeneratorSide,
    LossBreakdown,
    discriminator_loss,
    discriminator_objective,
    feature_loss,
    generator_loss,
    mel_loss,
)
from hifigan.training.registry import build_generator_objective
from tests.support.tiny import tiny_config


def generator_objective(inputs: GeneratorInputs, weights: dict[str, float]):
    """The objective a config with these loss weights builds, applied to `inputs`."""
    return build_generator_objective(tiny_config(loss_weights=weights))(inputs)


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def test_discriminator_loss_by_hand():
    real = [t(1.0, 0.0), t(0.5)]
    fake = [t(0.0, 2.0), t(-1.0)]
    loss, r_losses, g_losses = discriminator_loss(real, fake)
    # D1: mean((1-[1,0])^2) = 0.5, mean([0,2]^2) = 2; D2: (0.5)^2 = 0.25, (-1)^2 = 1
    assert r_losses == [0.5, 0.25] and g_losses == [2.0, 1.0]
    assert loss.item() == pytest.approx(3.75)


def test_generator_loss_by_hand():
    loss, parts = generator_loss([t(1.0, 3.0), t(0.0)])
    # mean((1-[1,3])^2) = (0 + 4)/2 = 2; (1-0)^2 = 1
    assert [p.item() for p in parts] == [2.0, 1.0]
    assert loss.item() == 3.0


def test_feature_loss_by_hand():
    fmap_r = [[t(1.0, 2.0), t(0.0)], [t(3.0)]]
    fmap_g = [[t(1.0, 0.0), t(0.5)], [t(1.0)]]
    # layer means of |r-g|: 1, 0.5, 2 -> sum 3.5, official factor 2 -> 7
    assert feature_loss(fmap_r, fmap_g).item() == 7.0


def test_mel_loss_is_mean_absolute_error():
    assert mel_loss(t(0.0, 1.0, 2.0), t(1.0, 1.0, 0.0)).item() == pytest.approx(1.0)


def test_losses_backpropagate_to_the_generated_side():
    fake = t(0.5, 0.25).requires_grad_()
    loss, _ = generator_loss([fake])
    loss.backward()
    # d/dx mean((1-x)^2) = -2(1-x)/n
    assert torch.allclose(fake.grad, t(-0.5, -0.75))
    generated_map = t(1.5, 0.0).requires_grad_()
    feature_loss([[t(1.0, 2.0)]], [[generated_map]]).backward()
    # d/dg 2 mean|r - g| = 2 sign(g - r)/n
    assert torch.equal(generated_map.grad, t(1.0, -1.0))


def inputs(mel_r, mel_g, sides=None) -> GeneratorInputs:
    """Generator-loss inputs with the given mels and discriminator outputs (the audio is unused by these terms)."""
    return GeneratorInputs(t(0.0), t(0.0), mel_r, mel_g, sides or {})


def test_generator_objective_sums_the_papers_terms():
    gen = [t(0.0)]
    fmap_r, fmap_g = [[t(1.0)]], [[t(0.0)]]
    mel_r, mel_g = t(0.0, 0.0), t(1.0, 3.0)
    sides = {"mpd": GeneratorSide(gen, fmap_r, fmap_g), "msd": GeneratorSide(gen, fmap_r, fmap_g)}
    out = generator_objective(inputs(mel_r, mel_g, sides), {"mel": 45.0, "fm": 2.0, "adv": 1.0})
    # adversarial 1 + 1, feature matching 2*1 + 2*1, mel 45 * 2
    assert out.total.item() == pytest.approx(2 + 4 + 90)
    # logged unweighted: L_FM of Eq. 3 (layer mean |1 - 0| = 1), L_adv 1, L_mel 2; g/total alone is weighted
    assert out.terms["g/mel_l1"] == 2.0 and out.terms["g/fm_mpd"] == 1.0 and out.terms["g/adv_msd/0"] == 1.0
    assert out.terms["g/total"] == pytest.approx(96.0)
    scaled = generator_objective(inputs(mel_r, mel_g, sides), {"mel": 1.0, "fm": 1.0, "adv": 1.0})
    assert scaled.total.item() == pytest.approx(2 + 2 + 2)


def test_generator_warm_up_objective_is_mel_only():
    out = generator_objective(inputs(t(0.0), t(2.0)), {"mel": 45.0, "fm": 2.0, "adv": 1.0})
    assert out.total.item() == 90.0 and set(out.terms) == {"g/mel_l1", "g/total"}


def test_a_term_without_named_parts_logs_only_the_total():
    """A loss term of one's own may return LossBreakdown(total) with nothing to log: its terms are {}, and the
    objective holding it logs g/total alone."""
    assert LossBreakdown(t(3.0)).terms == {}
    objective = GeneratorObjective({"own": (lambda inputs, weight: LossBreakdown(weight * inputs.mel_hat.sum()), 2.0)})
    out = objective(inputs(t(0.0), t(1.5, 0.5)))
    assert out.total.item() == 4.0 and out.terms == {"g/total": 4.0}


def test_discriminator_objective_names_every_discriminator():
    out = discriminator_objective({"mpd": ([t(1.0)] * 5, [t(0.0)] * 5), "msd": ([t(0.0)] * 3, [t(1.0)] * 3)})
    assert out.total.item() == 6.0  # MPD perfect (0), MSD wrong: 3 * (1 + 1)
    assert out.terms["d/mpd"] == 0.0 and out.terms["d/msd"] == 6.0
    assert {f"d/msd_real/{i}" for i in range(3)} <= set(out.terms)
    assert {f"d/mpd_fake/{i}" for i in range(5)} <= set(out.terms)


def test_loss_weights_by_name_by_hand():
    """Eq. 6 with weights mel 3, fm 0.5, adv 4: each term scales by its own weight; a weight 0 drops the term."""
    gen = [t(0.0)]
    fmap_r, fmap_g = [[t(1.0)]], [[t(0.0)]]
    sides = {"mpd": GeneratorSide(gen, fmap_r, fmap_g), "msd": GeneratorSide(gen, fmap_r, fmap_g)}
    out = generator_objective(inputs(t(0.0, 0.0), t(1.0, 3.0), sides), {"mel": 3.0, "fm": 0.5, "adv": 4.0})
    # mel L1 2 -> 6; adversarial (1 - 0)^2 = 1 per discriminator -> 4 + 4; layer mean |1 - 0| = 1 -> 0.5 + 0.5
    assert out.total.item() == 6 + 8 + 1
    assert out.terms["g/adv_mpd"] == 1.0 and out.terms["g/fm_msd"] == 1.0 and out.terms["g/mel_l1"] == 2.0
    no_fm = generator_objective(inputs(t(0.0, 0.0), t(1.0, 3.0), sides), {"mel": 3.0, "fm": 0.0, "adv": 4.0})
    assert no_fm.total.item() == 6 + 8 and not any(k.startswith("g/fm") for k in no_fm.terms)


def test_logged_terms_are_unweighted_and_weighted_sum_to_g_total():
    """The one convention: every logged term is the paper's unweighted loss and g/total = sum of weight * term (in
    float64, to its precision); a discriminator's adversarial parts add up to its g/adv_<name>. Non-default weights on
    every built-in term, random scores, feature maps, mels and audio."""
    weights = {"mel": 7.5, "adv": 2.0, "fm": 3.0, "stft": 0.25}
    config = tiny_config(loss_weights=weights, loss_args={"stft": {"resolutions": [[64, 16, 64], [32, 8, 32]]}})
    g = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    sides = {name: GeneratorSide([rand(2, 7) for _ in range(subs)], [[rand(2, 3, 5), rand(2, 4)]] * subs,
                                 [[rand(2, 3, 5), rand(2, 4)] for _ in range(subs)])
             for name, subs in (("mpd", 5), ("msd", 3))}
    out = build_generator_objective(config)(GeneratorInputs(rand(2, 1, 512), rand(2, 1, 512), rand(2, 16, 32),
                                                            rand(2, 16, 32), sides))
    logged = {k: float(v) for k, v in out.tensors.items()}
    summed = (weights["mel"] * logged["g/mel_l1"] + weights["stft"] * (logged["g/stft_sc"] + logged["g/stft_mag"])
              + sum(weights["adv"] * logged[f"g/adv_{n}"] + weights["fm"] * logged[f"g/fm_{n}"] for n in sides))
    assert out.total.dtype == torch.float64 and logged["g/total"] == float(out.total)
    assert summed == pytest.approx(logged["g/total"], rel=1e-12, abs=0)
    for name, side in sides.items():
        by_hand = sum(float(torch.mean((1 - s) ** 2)) for s in side.scores)
        assert logged[f"g/adv_{name}"] == pytest.approx(by_hand, rel=1e-12, abs=0)
        assert sum(logged[f"g/adv_{name}/{i}"] for i in range(len(side.scores))) == pytest.approx(
            logged[f"g/adv_{name}"], rel=1e-12, abs=0)
        eq3 = sum(float(torch.mean(torch.abs(r - f))) for rs, fs in zip(side.fmap_real, side.fmap_generated)
                  for r, f in zip(rs, fs))
        assert logged[f"g/fm_{name}"] == pytest.approx(eq3, rel=1e-12, abs=0)  # Eq. 3: no factor 2
