"""MSD's strided convs as stride-1 convs over polyphase components: an exact rewrite of the official computation,
checked in float64 against F.conv1d and against the official-style discriminators (scores, feature maps, every
gradient, and the spectral-norm u/v) in training mode.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.compat import official_to_ours, ours_to_official
from hifigan.models import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.models.polyphase import PolyphaseConv1d, polyphase_conv1d
from official_reference import RefMPD, RefMSD

pytestmark = pytest.mark.usefixtures("single_thread")


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 2, 4]))
    per_in, per_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 13))
    stride = draw(st.integers(1, 5))
    padding = draw(st.integers(0, k))
    length = draw(st.integers(max(1, k - 2 * padding), 40))
    return groups, per_in * groups, per_out * groups, k, stride, padding, length


@settings(max_examples=60, deadline=None)
@given(conv_cases(), st.integers(0, 2**31 - 1))
def test_polyphase_conv_equals_conv1d_with_gradients_float64(case, seed):
    groups, c_in, c_out, k, stride, padding, length = case
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c_in, length, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(c_out, c_in // groups, k, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(c_out, dtype=torch.float64, generator=gen, requires_grad=True)
    want = F.conv1d(x, w, b, stride, padding, 1, groups)
    got = polyphase_conv1d(x, w, b, stride, padding, groups)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    grad_out = torch.randn(want.shape, dtype=torch.float64, generator=gen)
    for a, e in zip(torch.autograd.grad(got, (x, w, b), grad_out), torch.autograd.grad(want, (x, w, b), grad_out)):
        torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)


def test_polyphase_module_keeps_conv1d_parameters_and_keys():
    torch.manual_seed(0)
    conv = PolyphaseConv1d(8, 16, 41, 4, groups=4, padding=20)
    plain = torch.nn.Conv1d(8, 16, 41, 4, groups=4, padding=20)
    assert conv.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(conv.state_dict())
    x = torch.randn(3, 8, 333)
    torch.testing.assert_close(conv(x), plain(x), rtol=1e-5, atol=1e-6)


def _weighted(t: torch.Tensor) -> torch.Tensor:
    """mean of t with batch item i weighted by i + 1."""
    return (t * torch.arange(1, t.shape[0] + 1, dtype=t.dtype).view(-1, *[1] * (t.dim() - 1))).mean()


def _official_pair(ref_cls, ours_cls):
    ref = ref_cls().double()
    ours = ours_cls().double()
    ours.load_state_dict(official_to_ours(ref.state_dict()))
    return ref, ours


@pytest.mark.parametrize(("ref_cls", "ours_cls"), [(RefMPD, MultiPeriodDiscriminator),
                                                   (RefMSD, MultiScaleDiscriminator)])
def test_ensembles_match_the_official_calls_in_training_float64(ref_cls, ours_cls):
    """Scores, maps, every gradient and the spectral-norm u/v match the official modules over 2 training calls."""
    torch.manual_seed(0)
    ref, ours = _official_pair(ref_cls, ours_cls)
    y = torch.randn(3, 1, 257, dtype=torch.float64)
    y_hat = torch.randn(3, 1, 257, dtype=torch.float64)
    for _ in range(2):
        outs = [model(y, y_hat) for model in (ref, ours)]
        for got, want in zip(outs[1][0] + outs[1][1], outs[0][0] + outs[0][1]):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-13)
        for got_maps, want_maps in zip(outs[1][2] + outs[1][3], outs[0][2] + outs[0][3]):
            for got, want in zip(got_maps, want_maps):
                torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-13)
        for model, (rs, gs, frs, fgs) in zip((ref, ours), outs):
            model.zero_grad()
            # Real and generated, and each batch item, weigh differently: a swap or a misplaced slice shows.
            loss = sum(_weighted((1 - r) ** 2) + 3 * _weighted(g ** 2) for r, g in zip(rs, gs))
            loss = loss + sum(_weighted((a - 0.5 * b).abs()) for fr, fg in zip(frs, fgs) for a, b in zip(fr, fg))
            loss.backward()
        want_grads = {k: p.grad for k, p in ref.named_parameters()}
        got_grads = ours_to_official({k: p.grad for k, p in ours.named_parameters()})
        assert got_grads.keys() == want_grads.keys()
        for key in want_grads:
            torch.testing.assert_close(got_grads[key], want_grads[key], rtol=1e-10, atol=1e-13, msg=key)
    saved = ours_to_official(ours.state_dict())
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(saved[key], value, rtol=1e-12, atol=1e-14, msg=key)
