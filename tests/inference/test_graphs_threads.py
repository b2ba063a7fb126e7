"""The graph backends' generator (`cuda-graph`, `cuda-compiled`) shared by threads: every shape's input and output
are one buffer, so overlapping calls must not swap each other's audio. Off CUDA its replay reruns the model through
the same buffers, cache and lock (benchmarks/gpu_check.py's `threads/` checks run the graphs on a GPU)."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from hifigan.inference.fused import FusedGenerator
from hifigan.inference.graphs import GraphedGenerator
from hifigan.models import Generator
from hifigan.models.generators import fold_norms
from tests.support.tiny import tiny_config

THREADS, ROUNDS = 8, 10
FRAMES = (9, 9, 9, 9, 14, 14, 14, 5)  # three shapes, each thread's mel its own: most threads share a shape's buffer


def _mels(num_mels: int) -> list[torch.Tensor]:
    seeded = torch.Generator().manual_seed(0)
    return [torch.randn(1, num_mels, n, generator=seeded) for n in FRAMES]


def test_threads_calling_one_graphed_generator_at_once_each_get_their_own_audio():
    """Before: 8 threads, some sharing a shape, copied their mels into its one input buffer and read its one output
    buffer between each other's copy and replay: a thread got another's audio. Each thread's first call captures."""
    torch.manual_seed(0)
    cfg = tiny_config("1")
    model = FusedGenerator(fold_norms(Generator(cfg).eval())).eval()
    mels = _mels(cfg.num_mels)
    with torch.inference_mode():
        want = [model(m) for m in mels]
    for _ in range(4):  # a fresh generator each time: the threads' first calls capture at once
        graphed = GraphedGenerator(model)
        start = threading.Barrier(THREADS)

        def calls(k: int, graphed: GraphedGenerator = graphed, start: threading.Barrier = start) -> list[torch.Tensor]:
            start.wait()
            return [graphed(mels[k]) for _ in range(ROUNDS)]

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # Python switches threads every few bytecodes: overlaps come on every run
        try:
            with ThreadPoolExecutor(THREADS) as pool:
                got = list(pool.map(calls, range(THREADS)))
        finally:
            sys.setswitchinterval(interval)
        for k, outputs in enumerate(got):
            peak = float(want[k].abs().max())
            for out in outputs:
                assert out.shape == (1, 1, FRAMES[k] * cfg.hop_size)
                assert float((out - want[k]).abs().max()) < 1e-6 * peak, k
    assert sorted(key[0] for key in graphed._graphs) == [(1, cfg.num_mels, n) for n in (5, 9, 14)]


def test_a_call_waits_for_the_lock_and_moving_the_weights_drops_the_graphs():
    """A call held off while another holds the generator's lock (the capture and replay are inside it); `.double()`
    (nn.Module's _apply) forgets the captured shapes, which would read the old weights."""
    cfg = tiny_config("2")
    model = FusedGenerator(fold_norms(Generator(cfg).eval())).eval()
    graphed = GraphedGenerator(model)
    mel = _mels(cfg.num_mels)[0]
    done = threading.Event()
    with graphed._lock:
        caller = threading.Thread(target=lambda: (graphed(mel), done.set()))
        caller.start()
        assert not done.wait(0.3) and not graphed._graphs
    caller.join(10)
    assert done.is_set() and len(graphed._graphs) == 1
    graphed.double()
    assert not graphed._graphs
    with torch.inference_mode():
        assert torch.equal(graphed(mel.double()), model(mel.double()))
