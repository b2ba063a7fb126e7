"""Generator and discriminators: the paper's sizes, exact output lengths, and the official forward."""

import math
import pickle

import pytest
import torch

from hifigan.checkpoints.contents import load_official_discriminators, load_official_generator
from hifigan.config import load_config
from hifigan.models import Generator, MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.models.discriminators import DiscriminatorP
from hifigan.models.generators import fold_norms, meta_generator
from hifigan.models.norms import spectral_norm, weight_norm
from tests.support.official_reference import RefGenerator, RefMPD, RefMSD
from tests.support.tiny import TINY_DISCRIMINATORS, tiny_config

CONFIGS = {"v1": load_config("v1"), "v2": load_config("v2"), "v3": load_config("v3"),
           "tiny1": tiny_config("1"), "tiny2": tiny_config("2")}


@pytest.mark.parametrize(("version", "millions"), [("v1", 13.92), ("v2", 0.92), ("v3", 1.46)])
def test_parameter_counts_match_the_paper(version, millions):
    generator = Generator(CONFIGS[version]).remove_weight_norm()
    count = sum(p.numel() for p in generator.parameters())
    assert math.floor(count / 1e4) / 100 == millions  # the paper's table truncates to 0.01 M


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_meta_generator_has_the_trained_generators_count_and_geometry(name):
    """Built on the meta device with the weight norms left out (no sympy import, no memory): the parameter count of
    the generator as trained (g and v of each norm) and the same layers; the norms are back after the build."""
    cfg = CONFIGS[name]
    meta, count = meta_generator(cfg)
    generator = Generator(cfg)
    assert count == sum(p.numel() for p in generator.parameters())
    assert all(p.is_meta for p in meta.parameters()) and not any(n.endswith("original0") for n, _ in
                                                                      meta.named_parameters())
    assert meta.layers().receptive_field() == generator.layers().receptive_field()
    assert torch.nn.utils.parametrize.is_parametrized(weight_norm(torch.nn.Conv1d(2, 3, 1)), "weight")


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("frames", [1, 7, 32])
def test_output_length_is_frames_times_upsampling(name, frames):
    cfg = CONFIGS[name]
    generator = Generator(cfg).eval()
    with torch.no_grad():
        audio = generator(torch.randn(2, cfg.num_mels, frames))
    assert audio.shape == (2, 1, frames * math.prod(cfg.upsample_rates))
    assert audio.abs().max() < 1


@pytest.mark.parametrize("name", ["v1", "v2", "v3", "tiny1"])
def test_generator_matches_official_forward(name):
    torch.manual_seed(0)
    cfg = CONFIGS[name]
    reference = RefGenerator(cfg).eval()
    ours = load_official_generator(reference.state_dict(), cfg).eval()
    mel = torch.randn(1, cfg.num_mels, 12)
    with torch.no_grad():
        assert torch.equal(ours(mel), reference(mel))


def test_folding_weight_norm_keeps_the_output():
    cfg = CONFIGS["tiny1"]
    generator = Generator(cfg).eval()
    mel = torch.randn(1, cfg.num_mels, 20)
    with torch.no_grad():
        before = generator(mel)
        after = generator.remove_weight_norm()(mel)
    assert not any("parametrizations" in k for k in generator.state_dict())
    assert torch.allclose(before, after, atol=1e-6)


def test_mrf_is_the_mean_of_the_stage_blocks():
    cfg = CONFIGS["tiny2"]
    generator = Generator(cfg).eval()
    x = torch.randn(1, 8, 10)  # stage 1 of the tiny config has 32 // 4 channels
    with torch.no_grad():
        expected = (generator.resblocks[2](x) + generator.resblocks[3](x)) / 2
        assert torch.allclose(generator.mrf(1, x), expected)


def test_discriminator_output_structure():
    """The official layers, kernels, strides, periods and pooling at tests/support/tiny.py's narrow widths: the
    outputs' count and lengths are the official ones (no channel count is checked here)."""
    mpd = MultiPeriodDiscriminator(**TINY_DISCRIMINATORS["mpd"])
    msd = MultiScaleDiscriminator(**TINY_DISCRIMINATORS["msd"])
    y, y_hat = torch.randn(2, 1, 1000), torch.randn(2, 1, 1000)
    with torch.no_grad():
        rs, gs, frs, fgs = mpd(y, y_hat)
        assert len(rs) == len(gs) == len(frs) == len(fgs) == 5
        assert [len(f) for f in frs] == [6] * 5
        for period, (r, fmap) in zip((2, 3, 5, 7, 11), zip(rs, frs)):
            assert fmap[0].shape[-1] == period  # [B, C, T/p, p]
            assert r.shape[0] == 2 and r.dim() == 2
        rs, gs, frs, fgs = msd(y, y_hat)
        assert len(rs) == 3 and [len(f) for f in frs] == [8] * 3
        # total stride 2*2*4*4 = 64 on 1000, 501 and 251 samples (pooled with padding 2)
        assert [r.shape[1] for r in rs] == [16, 8, 4]


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_a_period_discriminators_convolutions_pad_for_their_own_kernel(kernel):
    """Its padding was the official kernel 5's (2) whatever kernel_size was given: kernel 3 grew each strided map by
    a row and the last one by two, kernel 7 shrank them. Each conv pads (kernel - 1) / 2: the strided ones give
    ceil(h / 3) rows, the last and conv_post keep theirs."""
    d = DiscriminatorP(2, kernel_size=kernel, channels=TINY_DISCRIMINATORS["mpd"]["channels"])
    with torch.no_grad():
        _, fmap = d(torch.randn(1, 1, 2 * 100))
    rows = [100]
    for _ in range(4):
        rows.append(-(-rows[-1] // 3))
    assert [f.shape[2] for f in fmap] == [*rows[1:], rows[-1], rows[-1]] == [34, 12, 4, 2, 2, 2]


def test_discriminators_match_official_forward():
    torch.manual_seed(0)
    ref_mpd, ref_msd = RefMPD(), RefMSD()
    y, y_hat = torch.randn(2, 1, 1500), torch.randn(2, 1, 1500)
    ref_msd(y, y_hat)  # one training-mode forward moves the spectral norm's power-iteration vectors
    ref_mpd.eval(), ref_msd.eval()
    mpd, msd = load_official_discriminators({"mpd": ref_mpd.state_dict(), "msd": ref_msd.state_dict()})
    mpd.eval(), msd.eval()
    with torch.no_grad():
        for ours, ref in ((mpd, ref_mpd), (msd, ref_msd)):
            a, b = ours(y, y_hat), ref(y, y_hat)
            for got, want in zip(a[0] + a[1], b[0] + b[1]):
                assert torch.allclose(got, want, atol=1e-6)
            for got_maps, want_maps in zip(a[2] + a[3], b[2] + b[3]):
                for got, want in zip(got_maps, want_maps):
                    assert torch.allclose(got, want, atol=1e-6)


def test_msd_spectral_norm_only_on_the_first_scale():
    """Which norm each scale and period takes does not depend on the widths: tests/support/tiny.py's narrow ones."""
    msd = MultiScaleDiscriminator(**TINY_DISCRIMINATORS["msd"])
    keys = msd.state_dict().keys()
    assert any(k.startswith("discriminators.0.") and k.endswith("._u") for k in keys)
    assert not any(k.startswith(("discriminators.1.", "discriminators.2.")) and k.endswith("._u") for k in keys)
    mpd = MultiPeriodDiscriminator(**TINY_DISCRIMINATORS["mpd"])
    assert all(k.endswith(("bias", "original0", "original1")) for k in mpd.state_dict())


@pytest.mark.usefixtures("single_thread")
def test_msd_spectral_norm_matches_the_official_hooks_step_by_step():
    """Two training-mode passes from the same state: every gradient and the saved u/v equal the official
    hook-based spectral norm's (float64). torch's parametrizations.spectral_norm iterates u and v in the other
    order and misses by ~5% on the first conv's gradient. Narrow MSD (tests/support/tiny.py's widths): the iteration is
    the same at any width."""
    from hifigan.checkpoints.official import official_to_ours, ours_to_official
    from tests.support.official_reference import RefMSD

    widths = TINY_DISCRIMINATORS["msd"]
    torch.manual_seed(0)
    ref = RefMSD(c=widths["channels"], g=widths["groups"][1:6]).double()
    ours = MultiScaleDiscriminator(channels=widths["channels"], groups=widths["groups"]).double()
    ours.load_state_dict(official_to_ours(ref.state_dict()))
    y = torch.randn(1, 1, 300, dtype=torch.float64)
    y_hat = torch.randn(1, 1, 300, dtype=torch.float64)
    for _ in range(2):
        losses = [sum(score.square().mean() for score in model(y, y_hat)[1]) for model in (ref, ours)]
        for model, loss in zip((ref, ours), losses):
            model.zero_grad()
            loss.backward()
        expected = {k: p.grad for k, p in ref.named_parameters()}
        got = ours_to_official({k: p.grad for k, p in ours.named_parameters()})
        assert got.keys() == expected.keys()
        for key in expected:
            torch.testing.assert_close(got[key], expected[key], rtol=1e-12, atol=1e-14, msg=key)
    saved = ours_to_official(ours.state_dict())
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(saved[key], value, rtol=1e-12, atol=1e-14, msg=key)


def test_spectral_norm_in_eval_mode_divides_by_its_saved_vectors():
    """Eval mode takes sigma = u^T W v of the saved u and v (an official do_* file's, a step behind W), as the
    official hooks do, not a fresh estimate such as ||W v||."""
    conv = spectral_norm(torch.nn.Conv1d(2, 3, 1)).double().eval()
    weight = torch.arange(1.0, 7.0, dtype=torch.float64).reshape(3, 2, 1)
    with torch.no_grad():
        conv.parametrizations.weight.original.copy_(weight)
        conv.parametrizations.weight[0]._u.copy_(torch.tensor([1.0, 0.0, 0.0]))
        conv.parametrizations.weight[0]._v.copy_(torch.tensor([0.0, 1.0]))
    assert torch.equal(conv.weight, weight / 2)  # u^T W v = W[0, 1] = 2; ||W v|| would be sqrt(56)


class _OwnFold(torch.nn.Module):
    """A generator-like module whose own remove_weight_norm folds with torch's parametrize directly."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = weight_norm(torch.nn.Conv1d(4, 1, 3, padding=1))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.conv(mel)

    def remove_weight_norm(self) -> None:
        torch.nn.utils.parametrize.remove_parametrizations(self.conv, "weight")


@pytest.mark.parametrize("make", [lambda: Generator(CONFIGS["tiny1"]), _OwnFold])
def test_a_folded_generator_pickles_and_computes_the_same(make):
    """torch's weight_norm leaves a load_state_dict pre-hook, a local function, after the norm is removed: pickling
    the folded generator failed with "Can't pickle local object 'weight_norm.<locals>._weight_norm_compat_hook'"."""
    generator = fold_norms(make().eval())
    mel = torch.randn(1, 4 if isinstance(generator, _OwnFold) else CONFIGS["tiny1"].num_mels, 20)
    copy = pickle.loads(pickle.dumps(generator))
    with torch.no_grad():
        assert torch.equal(copy(mel), generator(mel))
    copy.load_state_dict(generator.state_dict())  # still loads its own (folded) keys


def test_a_module_folded_through_torch_parametrizations_pickles_and_computes_the_same():
    """fold_norms of a module without its own remove_weight_norm (torch's parametrized weight_norm, removed by
    remove_parametrizations) leaves no weight-norm load hook behind either: it pickles, and computes the same."""
    from torch.nn.utils.parametrizations import weight_norm as torch_weight_norm

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch_weight_norm(torch.nn.Conv1d(4, 2, 3)), torch.nn.Tanh()).eval()
    x = torch.randn(1, 4, 10)
    with torch.no_grad():
        want = module(x)
        folded = pickle.loads(pickle.dumps(fold_norms(module)))
        assert torch.allclose(folded(x), want, atol=1e-6)
