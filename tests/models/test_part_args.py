"""Each part's arguments from the config (discriminator_args, loss_args): they change what the part computes exactly
as the part built by hand with them; the defaults are the official modules; a bad name, argument or value is a
one-line ConfigError when the part is built."""

from __future__ import annotations

from itertools import pairwise, product

import pytest
import torch
import torch.nn.functional as F

from hifigan.checkpoints.official import official_to_ours, ours_to_official
from hifigan.config import load_config
from hifigan.config.files import preset_names
from hifigan.errors import ConfigError
from hifigan.models import DiscriminatorP, DiscriminatorR, DiscriminatorS
from hifigan.models.discriminators import msd_min_samples
from hifigan.models.norms import SpectralNorm
from hifigan.models.stft import multi_resolution_stft_loss
from hifigan.training.losses import GeneratorInputs
from hifigan.training.registry import (
    DISCRIMINATORS,
    build_discriminators,
    build_generator_objective,
    non_official_arguments,
    register_discriminator,
)
from tests.support.official_reference import RefMPD, RefMSD
from tests.support.tiny import TINY_DISCRIMINATORS, tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def audio(length: int, seed: int, scale: float = 0.3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(2, 1, length, generator=g, dtype=torch.float64)


def same_outputs(ours: tuple, by_hand: tuple) -> bool:
    """(score, feature maps) of one sub-discriminator, identical."""
    return torch.equal(ours[0], by_hand[0]) and all(torch.equal(a, b) for a, b in zip(ours[1], by_hand[1], strict=True))


def flat(outputs: tuple) -> list[torch.Tensor]:
    """An ensemble's (real scores, generated scores, real maps, generated maps) as one list of tensors."""
    real, generated, fmap_real, fmap_generated = outputs
    return [*real, *generated, *(t for maps in fmap_real + fmap_generated for t in maps)]


def test_mpd_periods_build_exactly_those_sub_discriminators():
    torch.manual_seed(0)
    mpd = build_discriminators(tiny_config(discriminators=["mpd"], discriminator_args={"mpd": {"periods": [2, 3]}}))
    mpd = mpd["mpd"].double()
    assert [d.period for d in mpd.discriminators] == [2, 3]
    assert {k.split(".")[1] for k in mpd.state_dict()} == {"0", "1"}
    y, y_hat = audio(509, 0), audio(509, 1)  # 509: neither period divides it, so both reflect-pad
    real, generated, fmap_real, fmap_generated = mpd(y, y_hat)
    for i, period in enumerate((2, 3)):
        by_hand = DiscriminatorP(period).double()
        by_hand.load_state_dict(mpd.discriminators[i].state_dict())
        assert same_outputs((real[i], fmap_real[i]), by_hand(y))
        assert same_outputs((generated[i], fmap_generated[i]), by_hand(y_hat))


def test_msd_scales_and_pooling_give_the_pooled_views_by_hand():
    """scales 2, AvgPool1d(2, 2, padding=1): scale 0 sees the audio (spectral norm), scale 1 F.avg_pool1d of it."""
    torch.manual_seed(0)
    args = {"scales": 2, "pool_kernel_size": 2, "pool_stride": 2, "pool_padding": 1}
    msd = build_discriminators(tiny_config(discriminators=["msd"], discriminator_args={"msd": args}))["msd"]
    msd = msd.double().eval()  # eval: spectral norm's u, v stay put, so the copies below see the same ones
    y, y_hat = audio(512, 0), audio(512, 1)
    views = [y, F.avg_pool1d(y, 2, 2, padding=1)]
    assert len(msd.discriminators) == 2 and msd.view_lengths(512) == [512, 257]
    assert all(torch.equal(a, b) for a, b in zip(msd.views(y), views, strict=True))
    for i, d in enumerate(msd.discriminators):
        norms = [isinstance(conv.parametrizations.weight[0], SpectralNorm) for conv in (*d.convs, d.conv_post)]
        assert norms == [i == 0] * 8
    real, generated, fmap_real, fmap_generated = msd(y, y_hat)
    views_hat = [y_hat, F.avg_pool1d(y_hat, 2, 2, padding=1)]
    for i in range(2):
        by_hand = DiscriminatorS(use_spectral_norm=i == 0).double().eval()
        by_hand.load_state_dict(msd.discriminators[i].state_dict())
        assert same_outputs((real[i], fmap_real[i]), by_hand(views[i]))
        assert same_outputs((generated[i], fmap_generated[i]), by_hand(views_hat[i]))


def pooled_to_a_sample(samples: int, scales: int, kernel: int, stride: int, padding: int) -> bool:
    """Whether torch's own AvgPool1d, applied scales - 1 times, leaves a sample of `samples` (it raises on none)."""
    y = torch.zeros(1, 1, samples)
    try:
        for _ in range(scales - 1):
            y = F.avg_pool1d(y, kernel, stride, padding=padding)
    except RuntimeError:
        return False
    return y.shape[-1] >= 1


def test_msd_min_samples_is_the_shortest_audio_torch_pools_down_to_its_last_scale():
    """Every small pooling: the length msd_min_samples gives keeps a sample at the last scale, one less does not."""
    assert msd_min_samples() == 1  # the official AvgPool1d(4, 2, padding=2) never empties a view
    for scales, kernel, stride in product(range(1, 5), range(1, 6), range(1, 5)):
        for padding in range(kernel // 2 + 1):
            least = msd_min_samples(scales, kernel, stride, padding)
            assert pooled_to_a_sample(least, scales, kernel, stride, padding)
            assert least == 1 or not pooled_to_a_sample(least - 1, scales, kernel, stride, padding)


def test_mpd_and_msd_widths_build_those_convs_and_compute_as_the_official_code_at_them():
    """mpd channels, msd channels and groups: every sub-discriminator's convs have those widths and groups, its
    output is the sub-discriminator built by hand with them, and the ensembles load strictly into the independent
    official-style reference at those widths and compute what it computes (float64)."""
    torch.manual_seed(0)
    built = build_discriminators(tiny_config(discriminator_args=TINY_DISCRIMINATORS))
    mpd, msd = built["mpd"].double().eval(), built["msd"].double().eval()
    mpd_widths = (1, *TINY_DISCRIMINATORS["mpd"]["channels"])
    msd_widths, groups = (1, *TINY_DISCRIMINATORS["msd"]["channels"]), TINY_DISCRIMINATORS["msd"]["groups"]
    for d in mpd.discriminators:
        assert [(c.in_channels, c.out_channels) for c in d.convs] == list(pairwise(mpd_widths))
        assert (d.conv_post.in_channels, d.conv_post.out_channels) == (mpd_widths[-1], 1)
    for d in msd.discriminators:
        assert [(c.in_channels, c.out_channels, c.groups) for c in d.convs] == list(zip(msd_widths, msd_widths[1:],
                                                                                        groups))
        assert (d.conv_post.in_channels, d.conv_post.out_channels) == (msd_widths[-1], 1)
    y, y_hat = audio(509, 0), audio(509, 1)
    real, _, fmap_real, _ = mpd(y, y_hat)
    by_hand = DiscriminatorP(3, channels=TINY_DISCRIMINATORS["mpd"]["channels"]).double()
    by_hand.load_state_dict(mpd.discriminators[1].state_dict())
    assert same_outputs((real[1], fmap_real[1]), by_hand(y))
    real, _, fmap_real, _ = msd(y, y_hat)
    by_hand = DiscriminatorS(True, **TINY_DISCRIMINATORS["msd"]).double().eval()
    by_hand.load_state_dict(msd.discriminators[0].state_dict())
    assert same_outputs((real[0], fmap_real[0]), by_hand(y))
    references = RefMPD(c=mpd_widths[1:]), RefMSD(c=msd_widths[1:], g=groups[1:6])
    for ours, ref in zip((mpd, msd), references):
        ref.double().load_state_dict(ours_to_official(ours.state_dict()))  # strict: the same keys and shapes
        ref.eval()
        got, want = (flat(module(y, y_hat)) for module in (ours, ref))
        assert len(got) == len(want) == len(ref.discriminators) * 2 * (1 + len(ref.discriminators[0].convs) + 1)
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_mrd_arguments_build_those_resolutions():
    torch.manual_seed(0)
    resolutions = [[128, 32, 64], [64, 16, 48]]
    args = {"resolutions": resolutions, "window": "rectangular", "channels": 8, "lrelu_slope": 0.2}
    mrd = build_discriminators(tiny_config(discriminators=["mrd"], discriminator_args={"mrd": args}))["mrd"].double()
    y, y_hat = audio(512, 0), audio(512, 1)
    real, generated, fmap_real, fmap_generated = mrd(y, y_hat)
    assert len(real) == 2
    for i, resolution in enumerate(resolutions):
        by_hand = DiscriminatorR(tuple(resolution), channels=8, window="rectangular", lrelu_slope=0.2).double()
        by_hand.load_state_dict(mrd.discriminators[i].state_dict())
        assert tuple(fmap_real[i][0].shape[1:3]) == (8, resolution[0] // 2 + 1)
        assert same_outputs((real[i], fmap_real[i]), by_hand(y))
        assert same_outputs((generated[i], fmap_generated[i]), by_hand(y_hat))


def test_stft_loss_arguments_change_the_term_exactly():
    """loss_args stft: its resolutions and power floor, as multi_resolution_stft_loss called with them (float64);
    quiet audio, so the floor 1e-4 on |X|^2 changes the value."""
    resolutions = ((128, 32, 64), (64, 16, 64))
    cfg = tiny_config(loss_weights={"stft": 2.5},
                      loss_args={"stft": {"resolutions": [list(r) for r in resolutions], "power_floor": 1e-4}})
    term, weight = build_generator_objective(cfg).terms["stft"]
    y, y_hat = audio(512, 0, 0.01), audio(512, 1, 0.01)
    out = term(GeneratorInputs(y, y_hat, y, y_hat), weight)
    sc, mag = multi_resolution_stft_loss(y, y_hat, resolutions, power_floor=1e-4)
    assert weight == 2.5 and torch.equal(out.total, 2.5 * (sc + mag))
    assert torch.equal(out.tensors["g/stft_sc"], sc) and torch.equal(out.tensors["g/stft_mag"], mag)
    unfloored = sum(multi_resolution_stft_loss(y, y_hat, resolutions))
    assert abs(float(sc + mag) / float(unfloored) - 1) > 0.02  # 5% here: the floor is felt


def test_defaults_and_every_preset_build_the_official_modules():
    """No argument and the presets' written-out ones: MPD and MSD with the official state-dict keys and shapes
    (official do_* weights load), and nothing export-official would have to refuse."""
    official = {name: official_to_ours(ref().state_dict()) for name, ref in (("mpd", RefMPD), ("msd", RefMSD))}
    for cfg in (tiny_config(official_discriminators=True), load_config("bigvgan-24k")):
        built = build_discriminators(cfg)
        assert list(built) == ["msd", "mpd"]
        for name, module in built.items():
            assert {k: v.shape for k, v in module.state_dict().items()} == {k: v.shape for k, v in
                                                                          official[name].items()}
            module.load_state_dict(official[name])
    for name in preset_names():
        assert non_official_arguments(load_config(name).discriminator_args) == [], name
    assert non_official_arguments({"mpd": {"periods": [2, 3, 5, 7, 11]}, "msd": {"scales": 3}}) == []
    assert non_official_arguments({"mpd": {"periods": [2, 3]}}) == ["discriminator_args['mpd']['periods']"]
    written_out = {"mpd": {"channels": [32, 128, 512, 1024, 1024]},
                   "msd": {"channels": [128, 128, 256, 512, 1024, 1024, 1024], "groups": [1, 4, 16, 16, 16, 16, 1]}}
    assert non_official_arguments(written_out) == []
    assert non_official_arguments(TINY_DISCRIMINATORS) == ["discriminator_args['mpd']['channels']",
                                                           "discriminator_args['msd']['channels']",
                                                           "discriminator_args['msd']['groups']"]


def test_a_registered_discriminator_takes_its_arguments():
    register_discriminator("tiny_conv", lambda config, channels=4: torch.nn.Conv1d(1, channels, 3))
    try:
        cfg = tiny_config(discriminators=["tiny_conv"], discriminator_args={"tiny_conv": {"channels": 3}})
        assert build_discriminators(cfg)["tiny_conv"].out_channels == 3
        bad = tiny_config(discriminators=["tiny_conv"], discriminator_args={"tiny_conv": {"width": 3}})
        with pytest.raises(ConfigError, match=r"discriminator_args\['tiny_conv'\]: unknown argument 'width' "
                                              r"\(known: channels\)"):
            build_discriminators(bad)
    finally:
        del DISCRIMINATORS["tiny_conv"]


def mpd(**args) -> dict:
    return dict(discriminators=["mpd"], discriminator_args={"mpd": args})


def msd(**args) -> dict:
    return dict(discriminators=["msd"], discriminator_args={"msd": args})


def mrd(**args) -> dict:
    return dict(discriminators=["mrd"], discriminator_args={"mrd": args})


def stft(**args) -> dict:
    return dict(loss_weights={"stft": 1.0}, loss_args={"stft": args})


BAD = [
    (dict(discriminators=["mpd", "mrx"]), r"^unknown discriminator 'mrx' \(known: msd, mpd, mrd\)$"),
    (dict(loss_weights={"stf": 1.0}), r"^unknown loss term 'stf' in loss_weights \(known: mel, adv, fm, stft\)$"),
    (dict(loss_args={"stf": {}}), r"^unknown loss term 'stf' in loss_args"),
    (mpd(period=[2]), r"^discriminator_args\['mpd'\]: unknown argument 'period' \(known: periods, channels\)$"),
    (mpd(periods=[]), r"^discriminator_args\['mpd'\]: periods must be a non-empty list of integers >= 1, got \[\]$"),
    (mpd(periods=[2, 0]), r"^discriminator_args\['mpd'\]: periods\[1\] must be an integer >= 1, got 0$"),
    (mpd(periods=[2, "3"]), r"periods\[1\] must be an integer >= 1, got '3'$"),
    (mpd(periods=[2, 1024]), r"period 1024 is longer than segment_size 512: give 1024 or more, a multiple of "
                             r"hop_size 16$"),  # the length that trains, as every 'too short' line gives it
    (msd(scales=0), r"^discriminator_args\['msd'\]: scales must be an integer >= 1, got 0$"),
    (msd(scales=True), r"^discriminator_args\['msd'\]: scales must be an integer >= 1, got True$"),
    (msd(pool_padding=3), r"pool_padding 3 must be at most half of pool_kernel_size 4$"),
    (msd(pool_kernel_size=600, pool_padding=0), r"segment_size 512 is too short for the MSD's pooling \(scale 1 "
                                                r"would see no sample\): give 1808 or more, a multiple of hop_size "
                                                r"16$"),  # scale 1 needs 600, scale 0 599 * 2 + 600, in hops
    (msd(pool=4), r"unknown argument 'pool' \(known: scales, pool_kernel_size, pool_stride, pool_padding, channels, "
                  r"groups\)$"),
    (mpd(channels=[4, 8, 16, 32]), r"^discriminator_args\['mpd'\]: channels must list 5 integers \(one per "
                                   r"convolution\), got 4: \[4, 8, 16, 32\]$"),
    (mpd(channels=[4, 8, 0, 32, 32]), r"^discriminator_args\['mpd'\]: channels\[2\] must be an integer >= 1, got 0$"),
    (msd(channels=[8, 8, 16, 16, 32, 32, 24]), r"^discriminator_args\['msd'\]: groups\[2\] 16 must divide conv 2's "
                                               r"input and output channels \(8, 16\)$"),  # the official groups
    (msd(channels=[8] * 7, groups=[1, 2, 4, 4, 4, 3, 1]), r"groups\[5\] 3 must divide conv 5's input and output"),
    (msd(groups=[1, 4, 16]), r"^discriminator_args\['msd'\]: groups must list 7 integers"),
    (mrd(resolutions=[[64, 16, 128]]), r"^discriminator_args\['mrd'\]: STFT resolution .* 1 <= win <= n_fft$"),
    (mrd(resolutions=[]), r"resolutions must be a non-empty list of \(n_fft, hop, win\)"),
    (mrd(resolutions=[[64, 16]]), r"an STFT resolution is \(n_fft, hop, win\), got \[64, 16\]"),
    (mrd(resolutions=[[64, 96, 64]]), r"^discriminator_args\['mrd'\]: the MRD's resolution \(64, 96, 64\) has hop 96 "
                                      r"> n_fft 64: it reflect-pads \(n_fft - hop\) // 2 samples per side$"),
    (mrd(window="hamming"), r"unknown STFT window 'hamming'"),
    (mrd(channels=0), r"channels must be an integer >= 1, got 0"),
    (mrd(lrelu_slope=-0.2), r"^discriminator_args\['mrd'\]: lrelu_slope must be a number in \[0, 1\], got -0.2$"),
    (mrd(), r"^discriminator_args\['mrd'\]: segment_size 512 is too short for the MRD discriminator .needs >= 905 "),
    (stft(), r"^loss_args\['stft'\]: segment_size 512 is too short for the STFT loss .needs >= 1025 samples"),
    (stft(resolutions=[[64, 16.5, 64]]), r"^loss_args\['stft'\]: STFT resolution .* must be integers$"),
    (stft(resolutions=[[64, 16, 64]], power_floor=0), r"power_floor must be a finite number > 0, got 0$"),
    (stft(fft_sizes=[64]), r"^loss_args\['stft'\]: unknown argument 'fft_sizes' \(known: resolutions, power_floor\)"),
    (dict(loss_args={"adv": {"scale": 2}}), r"^loss_args\['adv'\]: unknown argument 'scale' \(known: none\)$"),
    (dict(loss_weights={"stft": 0.0}, loss_args={"stft": {"fft": 1}}), r"loss_args\['stft'\]: unknown argument"),
    (dict(loss_weights={"mel": 0.0, "fm": 0.0, "adv": 0.0}), r"^loss_weights gives no term a weight > 0$"),
    (dict(loss_weights={"mel": 0.0}, disc_start_step=5), r"^loss_weights weighs only adv, fm, which need the "
                                                         r"discriminators' outputs: the generator-only warm-up "
                                                         r"\(disc_start_step 5\) would have no loss; give mel"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=[m.strip("^$")[:40] for _, m in BAD])
def test_a_bad_part_is_a_one_line_error_when_built(overrides, message):
    """The config loads (it cannot know the parts); building its parts says what is wrong, in one line."""
    cfg = tiny_config(**overrides)
    with pytest.raises(ConfigError) as error:
        build_generator_objective(cfg)
        build_discriminators(cfg)
    assert "\n" not in str(error.value)
    assert error.match(message)


def test_a_zero_weight_term_is_not_built():
    """Its arguments are checked by name, but a segment too short for it matters only when it is weighed."""
    objective = build_generator_objective(tiny_config(loss_weights={"stft": 0.0}))
    assert list(objective.terms) == ["mel", "adv", "fm"]
    adversarial_only = build_generator_objective(tiny_config(loss_weights={"mel": 0.0}, disc_start_step=0))
    assert list(adversarial_only.terms) == ["adv", "fm"]  # without a warm-up, they apply from the first step
