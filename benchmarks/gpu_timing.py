"""gpu_check's clock: a call timed with the device synchronised on both sides, the median of repeated calls, the peak
GPU memory of one call, and cuDNN's TF32 switched on or off around a block (every GPU benchmark times with these)."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch


@contextlib.contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    """cuDNN convolutions (and matmuls) in TF32 or in full fp32, restored afterwards."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def timed_call(device: torch.device, fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Seconds of fn(*args), the device synchronised on both sides, and what it returned."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn(*args)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, out


def timed(fn: Callable[[], Any], device: torch.device, quick: bool) -> dict[str, float]:
    """Median and min seconds of `fn` (after warm-up), synchronised with the device: at least 5 calls and up to 20
    within 1.5 s; `quick` (the CPU's check of the code path, whose figures nobody reads): 1 warm-up and 2 calls."""
    for _ in range(1 if quick else 3):
        fn()
    times: list[float] = []
    budget = time.perf_counter() + (0.0 if quick else 1.5)
    while len(times) < (2 if quick else 5) or (len(times) < 20 and time.perf_counter() < budget):
        times.append(timed_call(device, fn)[0])
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": len(times)}


def peak_memory_mb(fn: Callable[[], Any], device: torch.device) -> float | None:
    """Peak GPU memory allocated during one call of `fn` (None on the CPU)."""
    if device.type != "cuda":
        fn()
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
