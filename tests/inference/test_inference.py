"""Vocoder backends and batching: every path computes the plain eager generator's function (within 1e-4). (fp16 and
bf16: test_half_precision.py.)"""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.cli import main
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.inference.engines import resolve_backend
from hifigan.inference.fused import FusedGenerator
from hifigan.inference.tiled import TiledGenerator
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from tests.support.official_files import official_tiny_files
from tests.support.tiny import stft_for_hop, tiny_config

BACKENDS = ("eager", "fused", "fused-split", "jit", "onnx", "onnx-split", "tiled", "tiled-split")
TOL = 1e-4


def _vocoders(cfg, backends=BACKENDS):
    """One vocoder per backend, all with the same random weights."""
    torch.manual_seed(0)
    state = Generator(cfg).state_dict()
    out = {}
    for backend in backends:
        g = Generator(cfg)
        g.load_state_dict(state)
        out[backend] = Vocoder(g, cfg, backend=backend)
    return out


@pytest.fixture(scope="module", params=["1", "2"])
def tiny_vocoders(request):
    cfg = tiny_config(request.param)
    return cfg, _vocoders(cfg)


def _plain_eager(cfg, seed=0):
    torch.manual_seed(seed)
    return Generator(cfg).eval().remove_weight_norm()


def test_backends_match_plain_eager_on_tiny_configs(tiny_vocoders):
    cfg, vocoders = tiny_vocoders
    reference = _plain_eager(cfg)
    mel = torch.randn(2, cfg.num_mels, 37)
    with torch.inference_mode():
        expected = reference(mel).squeeze(1)
    for backend, vocoder in vocoders.items():
        assert vocoder.backend == backend
        got = vocoder(mel)
        assert got.shape == (2, 37 * cfg.hop_size) and got.dtype == torch.float32
        assert (got - expected).abs().max() < TOL, backend
        single = vocoder(mel[1].numpy())  # [num_mels, T] array in, [T * hop] out
        assert single.shape == (37 * cfg.hop_size,)
        assert (single - expected[1]).abs().max() < TOL, backend
        assert float(single.abs().max()) <= 1.0
        assert vocoder(torch.zeros(0, cfg.num_mels, 37)).shape == (0, 37 * cfg.hop_size), backend  # an empty batch


def test_an_empty_batch_is_an_empty_batch_of_audio():
    """[0, num_mels, T] -> [0, T * hop] float32 on the engines the module fixture leaves out, and with buckets."""
    cfg = tiny_config()
    for name, vocoder in {**_vocoders(cfg, ("invariant",)), "buckets": Vocoder(Generator(cfg), cfg, shape_buckets=True)
                          }.items():
        got = vocoder(np.zeros((0, cfg.num_mels, 5), np.float32))
        assert got.shape == (0, 5 * cfg.hop_size) and got.dtype == torch.float32, name


@pytest.mark.parametrize("name", ["v3", "v1"])
def test_backends_match_plain_eager_on_a_real_config(name):
    cfg = load_config(name)
    backends = BACKENDS if name == "v3" else ("tiled-split",)  # V1: the `auto` backend
    vocoders = _vocoders(cfg, backends)
    mel = torch.randn(cfg.num_mels, 12) - 4
    with torch.inference_mode():
        expected = _plain_eager(cfg)(mel[None])[0, 0]
    for backend, vocoder in vocoders.items():
        assert (vocoder(mel) - expected).abs().max() < TOL, backend


def test_split_backends_cut_long_inputs_exactly(tiny_vocoders):
    cfg, vocoders = tiny_vocoders
    threads = torch.get_num_threads()
    for batch in (1, 2):
        mel = torch.randn(batch, cfg.num_mels, 301)  # long enough for one piece per thread
        expected = vocoders["eager"](mel)
        for backend in ("onnx-split", "fused-split", "tiled-split"):
            assert (vocoders[backend](mel) - expected).abs().max() < TOL, backend
    assert torch.get_num_threads() == threads  # the workers' single-thread setting does not leak


def _geometry(stage: tuple[int, int]) -> tuple[int, int]:
    """(rate, kernel) from a rate and how far the kernel goes past it (rate 1 takes no odd excess)."""
    rate, excess = stage
    return rate, rate + (excess - excess % 2 if rate == 1 else excess)


@pytest.mark.usefixtures("single_thread")
@settings(max_examples=20, deadline=None)
@given(stages=st.lists(st.tuples(st.integers(1, 7), st.integers(0, 8)), min_size=1, max_size=3),
       frames=st.integers(1, 24), cut=st.integers(1, 24))
def test_every_engine_gives_frames_times_hop_at_any_accepted_geometry(stages, frames, cut):
    """Any rates and kernels a config accepts (output padding or not, kernel = rate, rate 1): eager, fused (both
    layouts), tiled, chunked and batched vocoding give frames x hop samples, equal in float64 (a wrong padding
    would shift the audio by whole samples)."""
    rates, kernels = zip(*map(_geometry, stages))
    hop = int(np.prod(rates))
    cfg = tiny_config("1", upsample_rates=list(rates), upsample_kernel_sizes=list(kernels),
                      segment_size=32 * hop, **stft_for_hop(hop), upsample_initial_channel=8,
                      resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 2]])
    torch.manual_seed(0)
    g = Generator(cfg).double().eval().remove_weight_norm()
    mel = torch.randn(1, cfg.num_mels, frames, dtype=torch.float64, generator=torch.Generator().manual_seed(cut)) - 3
    with torch.inference_mode():
        expected = g(mel)
        assert expected.shape == (1, 1, frames * hop)
        for engine in (FusedGenerator(g, "1d"), FusedGenerator(g, "2d"), TiledGenerator(FusedGenerator(g, "2d"))):
            assert (engine(mel) - expected).abs().max() < 1e-12
    vocoder = Vocoder(g, cfg, backend="eager")
    assert (vocoder.chunked(mel[0], cut) - expected[0, 0]).abs().max() < 1e-12
    short = mel[0, :, : min(cut, frames)]
    audio = vocoder.batch([mel[0], short])
    assert [a.shape[0] for a in audio] == [frames * hop, short.shape[1] * hop]


@settings(max_examples=30, deadline=None)
@given(frames=st.integers(1, 500), parts=st.integers(1, 6), left=st.integers(0, 20), right=st.integers(0, 20))
def test_time_splits_cover_the_input_with_context(frames, parts, left, right):
    from hifigan.inference.streaming import ReceptiveField, time_splits

    pieces = time_splits(frames, parts, ReceptiveField(left, right))
    assert pieces[0][2] == 0 and pieces[-1][3] == frames
    for (_, _, _, stop), (_, _, start, _) in itertools.pairwise(pieces):
        assert stop == start
    for in_a, in_b, out_a, out_b in pieces:
        assert in_a == max(0, out_a - left) and in_b == min(frames, out_b + right) and out_b > out_a


def test_fused_generator_folds_weight_norm_itself():
    cfg = tiny_config("1")
    torch.manual_seed(1)
    g = Generator(cfg).eval()  # weight norm still parametrized
    mel = torch.randn(1, cfg.num_mels, 21)
    with torch.inference_mode():
        expected = g(mel)
        for layout in ("1d", "2d"):
            assert (FusedGenerator(g, layout)(mel) - expected).abs().max() < TOL


@settings(max_examples=12, deadline=None)
@given(lengths=st.lists(st.integers(1, 60), min_size=1, max_size=5))
def test_batch_of_different_lengths_equals_each_alone(lengths):
    """Any lengths, in float64: equal to rounding (test_exactness: one frame less context fails)."""
    cfg = tiny_config("1")
    vocoder = _BATCH_VOCODER
    gen = torch.Generator().manual_seed(sum(lengths))
    mels = [torch.randn(cfg.num_mels, n, generator=gen, dtype=torch.float64) for n in lengths]
    outs = vocoder.batch(mels)
    assert len(outs) == len(mels)
    for mel, audio in zip(mels, outs):
        assert audio.shape == (mel.shape[1] * cfg.hop_size,) and audio.dtype == torch.float64
        assert (audio - vocoder(mel)).abs().max() < 1e-14


torch.manual_seed(0)
_BATCH_VOCODER = Vocoder(Generator(tiny_config("1")).double(), tiny_config("1"), backend="eager")


def test_zero_padding_alone_would_change_the_tail():
    """Why `batch` recomputes tails: a padded batch differs near each short item's end."""
    vocoder = _BATCH_VOCODER
    mel = torch.randn(16, 30)
    padded = vocoder(torch.nn.functional.pad(mel, (0, 20)))[: 30 * 16]
    assert (padded - vocoder(mel)).abs().max() > 1e-3
    assert vocoder.batch([]) == []


def test_from_checkpoint_with_backend_and_errors(official_tiny80, tiny_checkpoint):
    ckpt, cfg_json = official_tiny80
    vocoder = Vocoder.from_checkpoint(ckpt, cfg_json, backend="fused")
    assert vocoder.backend == "fused" and vocoder(torch.zeros(80, 5)).shape == (80,)
    auto = Vocoder.from_checkpoint(tiny_checkpoint).backend
    assert auto == resolve_backend("auto", torch.device("cpu"), cli=False) == "tiled-split"
    with pytest.raises(HifiganError, match="unknown backend"):
        Vocoder.from_checkpoint(tiny_checkpoint, backend="tensorrt")
    with pytest.raises(ValueError, match="expected a mel"):
        vocoder(torch.zeros(16, 5))
    with pytest.raises(ValueError, match="expected a mel"):
        vocoder(torch.zeros(80, 0))


def test_a_device_vocoder_cannot_use_is_named_as_its_argument():
    """A Vocoder is built from Python: its device refusal names the argument, not `hifigan vocode`'s --device (the
    commands refuse a bad --device before they build one)."""
    cfg = tiny_config("1")
    with pytest.raises(HifiganError, match=r"^device='cdua': not a device \(accepted: cpu, cuda, cuda:N\)$"):
        Vocoder(Generator(cfg), cfg, device="cdua")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("backend", ["cuda-graph", "cuda-compiled"])
def test_the_cuda_backends_are_refused_off_cuda_in_one_line(tmp_path, capsys, backend):
    """cuda-graph and cuda-compiled replay captured CUDA graphs (benchmarks/gpu_check.py checks them on a GPU);
    elsewhere each is one line, before any work: from Python (naming device='cuda') and `hifigan vocode` (naming
    --device cuda; no file written)."""
    cfg = tiny_config("1")
    with pytest.raises(HifiganError, match=rf"^backend {backend} runs on CUDA only \(device='cuda'\)$"):
        Vocoder(Generator(cfg), cfg, backend=backend)
    official, checkpoint, config_file = official_tiny_files(tmp_path)
    np.save(tmp_path / "m.npy", np.zeros((official.num_mels, 5), np.float32))
    assert main(["vocode", "-c", str(checkpoint), "--config", str(config_file), "-o", str(tmp_path / "out"),
                 "--backend", backend, str(tmp_path / "m.npy")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"hifigan vocode: error: backend {backend} runs on CUDA only (--device cuda)"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("device", ["mps", "xpu", "meta", "cuda:99"])
def test_a_device_torch_cannot_use_here_is_a_one_line_error(tiny_checkpoint, device):
    """Not torch's raw error at the first .to(device) (mps on Linux: 'PyTorch is not linked with support for mps
    devices'); named as the argument (`device='mps'`), as a Python caller gives it."""
    usable = {"mps": torch.backends.mps.is_available(), "xpu": hasattr(torch, "xpu") and torch.xpu.is_available()}
    if usable.get(device):
        pytest.skip(f"this machine has a usable {device} device")
    problem = "CUDA is not available" if device.startswith("cuda") and not torch.cuda.is_available() else device
    with pytest.raises(HifiganError, match=problem) as caught:
        Vocoder.from_checkpoint(tiny_checkpoint, device=device)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(f"device={device!r}")  # as the caller gave
    with pytest.raises(HifiganError, match=problem):
        Vocoder.from_checkpoint(tiny_checkpoint, device=torch.device(device))
