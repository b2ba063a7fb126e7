"""reflect_pad: F.pad's reflect values and gradients exactly, with a deterministic backward."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.arrays.padding import reflect_pad


@settings(max_examples=60, deadline=None)
@given(length=st.integers(2, 40), data=st.data())
def test_values_and_gradients_equal_f_pad(length, data):
    left = data.draw(st.integers(0, length - 1))
    right = data.draw(st.integers(0, length - 1))
    gen = torch.Generator().manual_seed(length * 1000 + left * 40 + right)
    x = torch.randn(2, 3, length, dtype=torch.float64, generator=gen, requires_grad=True)
    expected = F.pad(x, (left, right), mode="reflect")
    got = reflect_pad(x, left, right)
    assert got.shape == (2, 3, left + length + right)
    assert torch.equal(got, expected)
    upstream = torch.randn(expected.shape, dtype=torch.float64, generator=gen)
    (g_expected,) = torch.autograd.grad(expected, x, upstream)
    (g_got,) = torch.autograd.grad(got, x, upstream)
    if left + right < length - 1:  # each sample gets at most two gradient terms: the same sum, bit for bit
        assert torch.equal(g_got, g_expected)
    else:  # a sample mirrored to both sides sums three terms, in another order
        torch.testing.assert_close(g_got, g_expected, rtol=1e-15, atol=1e-15)


def test_hand_computed_example():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert reflect_pad(x, 2, 1).tolist() == [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0]


@pytest.mark.parametrize(("left", "right"), [(4, 0), (0, 4), (-1, 0)])
def test_padding_as_long_as_the_signal_is_refused(left, right):
    with pytest.raises(ValueError, match="reflect padding"):
        reflect_pad(torch.zeros(4), left, right)
