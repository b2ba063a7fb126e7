"""gpu_check's profiles (torch.profiler): where one call's time goes, by kernel, and how much of it the convolutions
take, the part that no lever on launches, fusion or synchronisation can remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

CONVOLUTIONS = {"forward": "aten::convolution", "backward": "aten::convolution_backward"}  # the bias's add included


def _micros(event: Any, name: str) -> float:
    """An event's `name` time in microseconds; torch before 2.4 said `cuda` where it now says `device`."""
    return float(getattr(event, name, None) or getattr(event, name.replace("device", "cuda"), 0.0) or 0.0)


def top_kernels(fn: Callable[[], Any], count: int = 15) -> dict[str, Any]:
    """Where one call's GPU time goes: the `count` kernels with the most total time (torch.profiler), and the
    total of all kernels (against the call's wall time, the rest is launches, copies and gaps)."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    fn()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    kernels = [e for e in prof.key_averages() if e.device_type == DeviceType.CUDA]
    kernels.sort(key=lambda e: _micros(e, "self_device_time_total"), reverse=True)
    return {"kernel_total_ms": sum(_micros(e, "self_device_time_total") for e in kernels) / 1000,
            "top": [{"name": e.key[:120], "calls": e.count, "ms": _micros(e, "self_device_time_total") / 1000}
                    for e in kernels[:count]]}


def convolution_share(fn: Callable[[], Any], device: torch.device, warm: bool = False) -> dict[str, float]:
    """One call of `fn` (after one unprofiled, unless `warm`: the caller has just run it as it is): on CUDA the
    time of all its GPU kernels, which a call replayed back to back from a CUDA graph cannot go below, and of those
    inside its convolutions; on the CPU the time of all its operators and of its convolutions (forward and backward
    apart). Milliseconds."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    cuda = device.type == "cuda"
    if not warm:
        fn()
    with profile(activities=[ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]) as prof:
        fn()
        if cuda:
            torch.cuda.synchronize(device)
    events = prof.key_averages()
    if cuda:
        total = sum(_micros(e, "self_device_time_total") for e in events if e.device_type == DeviceType.CUDA)
        inside = {e.key: _micros(e, "device_time_total") for e in events}
    else:
        total = sum(e.self_cpu_time_total for e in events)
        inside = {e.key: e.cpu_time_total for e in events}
    split = {f"{part}_convolutions_ms": inside.get(op, 0.0) / 1000 for part, op in CONVOLUTIONS.items()}
    return {"total_ms": total / 1000, "convolutions_ms": sum(split.values()), **split}
