"""The `invariant` backend: convolutions as GEMMs compute each output sample the same way whatever else is computed
with it, so in float32 a batched, streamed or chunked mel gives bit for bit the audio of that mel alone; and they
compute the convolutions themselves (float64, against torch's)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from hifigan.config import load_config
from hifigan.inference.engines import _TimeSplit, build_runner
from hifigan.inference.gemm import gemm_conv, tile_width
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.layers import ReceptiveField
from tests.support.threads import two_threads


def _channel_major(x: torch.Tensor) -> torch.Tensor:
    return x.transpose(0, 1)  # [B, C, T] <-> [C, B, T]


@st.composite
def convolutions(draw) -> tuple[nn.Module, torch.Tensor]:
    """A Conv1d or ConvTranspose1d of any geometry, float64, and an input [B, C_in, L] it accepts."""
    transposed = draw(st.booleans())
    k, d = draw(st.integers(1, 16)), draw(st.integers(1, 4))
    s = draw(st.integers(1, 8))
    c_in, c_out = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    p = draw(st.integers(0, (k - 1) * d))
    torch.manual_seed(draw(st.integers(0, 1000)))
    if transposed:
        q = draw(st.integers(0, max(s, d) - 1))
        conv = nn.ConvTranspose1d(c_in, c_out, k, s, padding=p, output_padding=q, dilation=d)
        length = draw(st.integers(max(1, (2 * p - (k - 1) * d - q) // s + 2), 70))
    else:
        conv = nn.Conv1d(c_in, c_out, k, s, padding=p, dilation=d)
        length = draw(st.integers(max(1, (k - 1) * d + 1 - 2 * p), 70))
    x = torch.randn(draw(st.integers(1, 3)), c_in, length, dtype=torch.float64)
    return conv.double(), x


@settings(max_examples=150, deadline=None)
@given(convolutions())
def test_gemm_convolutions_compute_torchs(case):
    conv, x = case
    expected = conv(x)
    got = _channel_major(gemm_conv(conv)(_channel_major(x)))
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-12


# V1's layer shapes where MKL is most likely to pick another path: conv_post (one output row, padded to a GEMM),
# a dilated 32-channel resblock conv, the 8x transposed conv and conv_pre on mel-rate lengths.
SHAPES = {
    "conv_post": (nn.Conv1d(32, 1, 7, padding=3), 9000),
    "dilated": (nn.Conv1d(32, 32, 11, padding=25, dilation=5), 9000),
    "up8": (nn.ConvTranspose1d(256, 128, 16, 8, padding=4), 3500),
    "conv_pre": (nn.Conv1d(80, 512, 7, padding=3), 4000),
}


@pytest.mark.parametrize("name", SHAPES)
def test_float32_gemm_convolutions_round_each_sample_alike_wherever_it_is_computed(name):
    """A sample far enough from the ends (its inputs are the same) is bit-equal whether its input starts earlier
    (tiles cut elsewhere), shares a batch with longer rows or is a few columns long (a tile mostly padding)."""
    conv, length = SHAPES[name]
    torch.manual_seed(1)
    gemm = gemm_conv(conv)
    x = torch.randn(conv.in_channels, 1, length)
    full = gemm(x)[:, 0]
    rate, margin = conv.stride[0], 40
    for shift in (1, 37, 1000, 4321):
        if shift >= length - 3 * margin:
            continue
        part = gemm(x[:, :, shift:])[:, 0]
        n, at = part.shape[1], shift * rate
        assert torch.equal(part[:, margin : n - margin], full[:, at + margin : at + n - margin]), shift
    reach = (conv.kernel_size[0] - 1) * conv.dilation[0]
    assert length > 2 * tile_width(gemm.matrix.shape[1])  # several tiles
    short = x[:, :, : reach + 4 if rate == 1 else 3]  # MKL takes other paths for products this narrow
    alone = gemm(short)[:, 0]
    edge = alone.shape[1] - reach - rate  # the rest reads the zero padding
    batch = torch.cat([torch.nn.functional.pad(short, (0, length - short.shape[2])), x], dim=1)
    together = gemm(batch)
    assert edge > 0 and torch.equal(together[:, 0, :edge], alone[:, :edge])
    assert torch.equal(together[:, 1], full)


@pytest.fixture(scope="module")
def v1_invariant():
    """V1 at full width with random weights, float32, on the invariant backend."""
    cfg = load_config("v1")
    torch.manual_seed(5)
    generator = Generator(cfg)
    state = {k: v.clone() for k, v in generator.state_dict().items()}
    with two_threads():  # a split engine then cuts long inputs and batches over two single-threaded workers
        return Vocoder(generator, cfg, backend="invariant"), state


def test_float32_batches_streams_and_chunks_equal_the_mel_alone_bit_for_bit(v1_invariant):
    vocoder, state = v1_invariant
    rng = np.random.default_rng(0)
    mels = [torch.from_numpy(rng.standard_normal((80, n)).astype(np.float32) * 2 - 5) for n in (1, 9, 33, 40)]
    alone = [vocoder(m) for m in mels]
    for got, expected in zip(vocoder.batch(mels), alone):
        assert torch.equal(got, expected), expected.shape
    mel, one_shot = mels[-1], alone[-1]
    sizes = rng.integers(10, 20, size=40)  # three windows of different lengths and offsets
    cuts = np.cumsum(sizes)[np.cumsum(sizes) < mel.shape[1]]
    streamed = torch.cat(list(vocoder.stream(torch.tensor_split(mel, cuts.tolist(), dim=1))))
    assert torch.equal(streamed, one_shot)
    long = torch.from_numpy(rng.standard_normal((80, 215)).astype(np.float32) * 2 - 5)  # split over the threads
    assert torch.equal(vocoder.chunked(long, chunk_frames=110), vocoder(long))
    generator = Generator(vocoder.config)
    generator.load_state_dict(state)
    eager = Vocoder(generator, vocoder.config, backend="eager")
    assert (eager(mel) - one_shot).abs().max().item() < 1e-4  # and it is the model's function


def test_split_engines_run_their_pieces_and_the_invariant_engine_its_short_inputs_on_single_threaded_workers():
    """Each piece of a long input on a pool worker with one intra-op thread, whatever the caller's count (torch gives a
    thread the process-wide count at its first parallel call, unless it already made one); an input too short to
    split on one such worker with whole_in_worker (`invariant`: every GEMM on one thread), else in the caller."""
    seen = []

    def runner(mel: torch.Tensor) -> torch.Tensor:
        seen.append((threading.current_thread().name.startswith("hifigan-split"), torch.get_num_threads()))
        return torch.zeros(mel.shape[0], 1, mel.shape[2] * 4)

    with two_threads():
        for in_worker, short in ((True, (True, 1)), (False, (False, 2))):
            split = _TimeSplit(runner, runner, ReceptiveField(3, 3), 4, single_threaded_torch=True,
                               whole_in_worker=in_worker)
            assert split(torch.zeros(1, 80, 5)).shape == (1, 1, 20) and seen == [short]
            assert split(torch.zeros(1, 80, 60)).shape == (1, 1, 240) and seen[1:] == [(True, 1)] * 2
            assert torch.get_num_threads() == 2  # the caller's count is left as it was
            seen.clear()
        invariant = build_runner(Generator(load_config("v3")).eval(), "invariant", torch.device("cpu"))
        assert isinstance(invariant, _TimeSplit) and invariant.whole_in_worker
