"""The `cuda-compiled` backend's model: the fused generator under torch.compile computes the fused generator's
function (checked here on the CPU, where inductor compiles it too; benchmarks/gpu_check.py checks the backend, its
CUDA graph included, on a GPU)."""

import torch
import torch._inductor.config

from hifigan.inference.fused import FusedGenerator
from hifigan.inference.graphs import compiled
from hifigan.models import Generator
from hifigan.models.generators import fold_norms
from tests.support.tiny import tiny_config

# One upsampling stage (hop 16, as the tiny config's two), two MRF kernels of one dilation each: every fused kind of
# layer, about half the C++ for inductor to compile of the two-stage tiny generator (the compiles are most of this
# file's time).
ONE_STAGE = dict(upsample_rates=[16], upsample_kernel_sizes=[32], resblock_kernel_sizes=[3, 5],
                 resblock_dilation_sizes=[[1], [3]])


def _fused(version: str) -> FusedGenerator:
    return FusedGenerator(fold_norms(Generator(tiny_config(version, **ONE_STAGE)).double().eval())).eval()


def test_the_compiled_fused_generator_computes_the_fused_one_in_float64_at_every_length():
    """float64 end to end: compiling reorders nothing that rounding could show at 1e-12 (the bias, the leaky ReLU
    and the residual add fused into one kernel are exact in float64 to ~1e-16). A second and a third length: the
    recompile with the length symbolic (torch's automatic dynamic shapes) must compute the same function.
    Then a second model: each compiled model has its own compile cache, so with torch's limit lowered to the first
    model's two graphs, the second still compiles (sharing FusedGenerator.forward's cache, it failed past 8 graphs
    in all: the H100 check of 2026-12-06, V2 after V1's four precisions)."""
    torch.manual_seed(0)
    cfg = tiny_config("1")  # the tiny ResBlock2 generator has the same mel bins and hop
    # One compile thread: inductor's pool of worker processes (each importing torch) costs more CPU than it saves on
    # graphs this small; the code it compiles is the same.
    with (torch.inference_mode(), torch._dynamo.config.patch(recompile_limit=2),
          torch._inductor.config.patch(compile_threads=1)):
        for model, lengths in ((_fused("1"), (24, 37, 9)), (_fused("2"), (20,))):
            fast = compiled(model)
            for frames in lengths:
                mel = torch.randn(2, cfg.num_mels, frames, dtype=torch.float64)
                want = model(mel)
                got = fast(mel)
                assert got.shape == want.shape == (2, 1, frames * cfg.hop_size)
                assert float((got - want).abs().max()) < 1e-12 * float(want.abs().max())
