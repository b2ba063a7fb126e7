"""gpu_check's inference levers, the ways toward V1 fp16 at 3500x real time beside the backends' own rows
(gpu_inference): cuDNN benchmark mode and what torch.compile is worth inside the graph backends' graph (the
`cuda-compiled` backend against `cuda-graph`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from gpu_failures import error_line
from gpu_profile import top_kernels


@contextlib.contextmanager
def cudnn_benchmark() -> Iterator[None]:
    """torch.backends.cudnn.benchmark on inside the block."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def compile_lever(settings) -> dict[str, Any]:
    """What torch.compile is worth inside the graph: V1 fp16, 10 s, the `cuda-graph` and `cuda-compiled` backends'
    runners (the fused generator replayed from a CUDA graph, plain and compiled); error against CPU fp32 eager, the
    first call's time (the compile, unless inductor's cache has it), and where the compiled model's GPU time goes
    (`compiled_kernels`, the model run outside the graph)."""
    if settings.device.type != "cuda" or settings.quick:
        return {"skipped": "a CUDA lever (compiling on the CPU says nothing of the GPU)"}
    from gpu_inference import SECONDS, reference_case

    device = settings.device
    config, generator, mel, audio_seconds, reference = reference_case("v1", settings.corpus, SECONDS)
    mel_dev = mel.unsqueeze(0).to(device, torch.float16)
    result: dict[str, Any] = {"config": "v1", "precision": "fp16", "rows": [], "failures": []}
    for backend in ("cuda-graph", "cuda-compiled"):
        try:
            result["rows"].append(_graph_row(generator, config, mel_dev, reference, audio_seconds, device, backend))
        except Exception as e:  # one backend failing is a finding; the other still runs
            result["failures"].append(f"{backend}: {error_line(e)}")
    if len(result["rows"]) == 2:
        plain, fast = result["rows"]
        result["compile_gain"] = plain["median_s"] / fast["median_s"]
    return result


def _graph_row(generator, config, mel_dev, reference, audio_seconds, device, backend: str) -> dict[str, Any]:
    """One row of compile_lever: `backend`'s runner as the backend builds it (engines.build_runner), in fp16."""
    from gpu_inference import clone_generator
    from gpu_timing import timed, timed_call

    from hifigan.inference.engines import build_runner
    from hifigan.models.generators import fold_norms

    folded = fold_norms(clone_generator(generator, config).eval())
    runner = build_runner(folded, backend, device).to(torch.float16)

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return runner(mel_dev).float().cpu()[0, 0]

    first_s, out = timed_call(device, call)
    speed = timed(call, device, False)
    row = {"backend": backend, "first_call_s": first_s, "max_abs_err": float((out - reference).abs().max()),
           **speed, "x_real_time": audio_seconds / speed["median_s"]}
    if backend == "cuda-compiled":  # what is left after the fusion, kernel by kernel (the model outside its graph)
        with torch.inference_mode():
            row["compiled_kernels"] = top_kernels(lambda: runner.model(mel_dev))
    return row
