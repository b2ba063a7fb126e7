"""gpu_check's inference levers, the ways toward V1 fp16 at 3500x real time beside the backends' own rows
(gpu_inference): cuDNN benchmark mode, where a call's GPU time goes (torch.profiler), and torch.compile inside
the `cuda-graph` backend's graph."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch


@contextlib.contextmanager
def cudnn_benchmark() -> Iterator[None]:
    """torch.backends.cudnn.benchmark on inside the block."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


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

    def micros(e: Any) -> float:
        return float(getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0.0))

    kernels.sort(key=micros, reverse=True)
    return {"kernel_total_ms": sum(micros(e) for e in kernels) / 1000,
            "top": [{"name": e.key[:120], "calls": e.count, "ms": micros(e) / 1000} for e in kernels[:count]]}


def compile_lever(settings) -> dict[str, Any]:
    """A lever for the 3500x target: V1 fp16, 10 s, the fused generator under torch.compile inside the `cuda-graph`
    backend's graph, against the same graph uncompiled. Inductor peels each convolution's bias off cuDNN and fuses
    it with the activation and the residual add (on this card the bias adds alone took 29% of a call's kernel time:
    the `fp16_kernels` profile). Error against CPU fp32 eager; the first call's time includes the compile."""
    if settings.device.type != "cuda" or settings.quick:
        return {"skipped": "a CUDA lever (compiling on the CPU says nothing of the GPU)"}
    from gpu_inference import SECONDS, reference_case

    device = settings.device
    config, generator, mel, audio_seconds, reference = reference_case("v1", settings.corpus, SECONDS)
    mel_dev = mel.unsqueeze(0).to(device, torch.float16)
    result: dict[str, Any] = {"config": "v1", "precision": "fp16", "rows": [], "failures": []}
    variants = (("cuda-graph", "2d", False), ("cuda-graph over torch.compile", "1d", True),
                ("cuda-graph over torch.compile", "2d", True))
    for name, layout, compiled in variants:
        try:
            result["rows"].append(_compiled_row(generator, config, mel_dev, reference, audio_seconds, device,
                                                name, layout, compiled))
        except Exception as e:  # one variant failing to compile is a finding; the others still run
            result["failures"].append(f"{name} ({layout}): {type(e).__name__}: {str(e).splitlines()[0][:300]}")
    timed_rows = {(r["backend"], r["layout"]): r["median_s"] for r in result["rows"]}
    plain = timed_rows.get(variants[0][:2])
    fastest = min((s for (b, _), s in timed_rows.items() if b != variants[0][0]), default=None)
    if plain and fastest:
        result["speedup"] = plain / fastest
    return result


def _compiled_row(generator, config, mel_dev, reference, audio_seconds, device, name, layout, compiled) -> dict:
    """One row of compile_lever: the fused generator in `layout`, compiled or not, inside GraphedGenerator."""
    from gpu_inference import clone_generator, timed, timed_call

    from hifigan.inference.fused import FusedGenerator
    from hifigan.inference.graphs import GraphedGenerator
    from hifigan.models.generators import fold_norms

    folded = fold_norms(clone_generator(generator, config).eval())
    model: Any = FusedGenerator(folded, layout=layout).to(device, torch.float16).eval()
    if compiled:
        model = torch.compile(model, fullgraph=True, dynamic=False)
    runner = GraphedGenerator(model)

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return runner(mel_dev).float().cpu()[0, 0]

    first_s, out = timed_call(device, call)
    speed = timed(call, device, False)
    return {"backend": name, "layout": layout, "first_call_s": first_s,
            "max_abs_err": float((out - reference).abs().max()), **speed,
            "x_real_time": audio_seconds / speed["median_s"]}
