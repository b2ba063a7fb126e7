"""gpu_check, threads: one `cuda-graph` Vocoder (V1) called from 8 threads at once,
mels of three lengths and each thread's its own (`--quick`: tiny configs); every output against the same call made
alone. The graph backends copy a call's mel into its shape's one input buffer and its audio out of one output
buffer: a lock per generator makes that one step (src/hifigan/inference/graphs.py); this is that lock on a GPU.
`cuda-compiled` replays through the same GraphedGenerator and lock, so it is left out (its compile costs ~30 s).
A few seconds."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from gpu_failures import error_line
from gpu_inference import GRAPH_TOLERANCE, config_for

from hifigan.inference import Vocoder
from hifigan.inference.bench import clone_generator
from hifigan.models import Generator

THREADS, ROUNDS = 8, 5
SECONDS = (1.0, 1.0, 1.0, 1.5, 1.5, 1.5, 2.0, 2.0)  # three shapes: most threads share one's buffers
CASES = (("cuda-graph", "v1"),)
QUICK_CASES = (("cuda-graph", "tiny1"),)


def overlapping_calls(settings) -> dict[str, Any]:
    """Per backend: a fresh Vocoder's first calls (the captures) and then its replays from 8 threads at once, each
    output's max abs difference from its mel vocoded alone (another Vocoder of the same weights); a failure above
    the graph backend's tolerance against `auto` (GRAPH_TOLERANCE; a swapped output differs by the audio's size)."""
    if settings.device.type != "cuda":
        return {"skipped": "the graph backends run on CUDA only"}
    result: dict[str, Any] = {"threads": THREADS, "rounds": ROUNDS, "tolerance": GRAPH_TOLERANCE, "rows": [],
                              "failures": []}
    for backend, name in QUICK_CASES if settings.quick else CASES:
        row: dict[str, Any] = {"backend": backend, "config": name}
        try:
            row.update(_one_backend(backend, name, settings.device))
            if row["max_abs_diff"] > GRAPH_TOLERANCE:
                result["failures"].append(f"{backend}: an output from threads differs from alone by "
                                          f"{row['max_abs_diff']:.3g} ({row['calls_over']} of {row['calls']} calls)")
        except Exception as e:  # one backend's error must not hide the other's row
            row["error"] = error_line(e)
            result["failures"].append(f"{backend}: {row['error']}")
        result["rows"].append(row)
    return result


def _one_backend(backend: str, name: str, device: torch.device) -> dict[str, Any]:
    config = config_for(name)
    torch.manual_seed(0)
    generator = Generator(config).eval()
    seeded = torch.Generator().manual_seed(0)
    mels = [torch.randn(config.num_mels, round(config.seconds_frames(s)), generator=seeded) - 4
            for s in SECONDS]
    alone_vocoder = Vocoder(clone_generator(generator, config), config, device, backend, shape_buckets=False)
    alone = [alone_vocoder(m) for m in mels]
    # A second Vocoder of the same weights: its captures happen in the threads.
    shared = Vocoder(clone_generator(generator, config), config, device, backend, shape_buckets=False)
    start = threading.Barrier(THREADS)

    def calls(k: int) -> list[torch.Tensor]:
        start.wait()
        return [shared(mels[k]) for _ in range(ROUNDS)]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # Python switches threads every few bytecodes: the calls overlap
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            got = list(pool.map(calls, range(THREADS)))
    finally:
        sys.setswitchinterval(interval)
    diffs = [float((out - alone[k]).abs().max()) if out.shape == alone[k].shape else float("inf")
             for k, outputs in enumerate(got) for out in outputs]
    return {"calls": len(diffs), "max_abs_diff": max(diffs), "bit_exact": all(d == 0.0 for d in diffs),
            "calls_over": sum(d > GRAPH_TOLERANCE for d in diffs),
            "peak": max(float(a.abs().max()) for a in alone)}
