"""Every CUDA path of the project, checked on one GPU by one command: writes gpu_check.json and prints a table.

    python benchmarks/gpu_check.py --out DIR            # on a GPU machine (`make gpu-check` installs the rest)
    python benchmarks/gpu_check.py --device cpu --quick --out DIR   # the same checks, tiny models, on the CPU

Checks, in order, the most wanted figures first (each one's result or error goes into the JSON as soon as it ends; a
failing check, CUDA errors included, is recorded and the next one runs): the environment; inference of V1, V2, V3
and `hifigan bench --device cuda` (gpu_inference.py); one graph-backend Vocoder called from 8 threads at once
(gpu_threads.py); our step against the official sequence per precision, time
and gradients (gpu_official.py); the whole training loop against its step (gpu_pipeline.py; on CUDA the loop
`hifigan train` runs there, its step a CUDA graph); the serving load benchmark (gpu_serving.py); the step's speed
per precision, eager and as a CUDA graph, exact resume, torchrun over NCCL and the graph against the eager step
(gpu_training.py); last, what torch.compile is worth inside the inference graph (gpu_inference_levers.py). Checks
measured before and not worth their minutes every time (ASKED_ONLY, CUDA_ASKED_ONLY) run when --only names them.
Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # gpu_inference/gpu_training; tests.support (official_reference, tiny)

from gpu_failures import error_line  # noqa: E402 (found through the path just set)

# cuBLAS reads its workspace setting once, when the process first uses it: deterministic (resume) checks need it.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
# torch is imported where it is used, main's after the arguments are checked: a usage error costs no torch import
# (~1.7 s of CPU).

SCHEMA = 1
# Measured, and not worth their minutes on every run: they run when --only names them.
# 2026-12-04, H200: 62 s of compiling for a slower step than eager; cuDNN benchmark mode and a channels-last MPD on
# the eager step (0.84x / 0.86x / 0.77x and 0.80x / 0.61x / 0.74x of the official in fp32 / TF32 / bf16, twice; the
# graph 0.74x / 0.41x / 0.28x).
ASKED_ONLY = ("train/lever-compile", "train/lever-eager")
# On CUDA as well (2026-12-04, H200): the eager loop (`hifigan train` replays a CUDA graph there; the eager loop
# measured 0.82, 1.04 and 0.96 of its step), serving with no batching wait (batched over batch-1 throughput
# 0.70 at 16 clients against 0.59 with serve's default wait: not what bounds it), cuDNN benchmark mode in inference
# (-3% to +3% for V1 fp16, V2 `cuda-graph` fp16 -18%) and torch.compile inside the inference graph (3534-3566x
# against 2519x for V1 fp16: shipped as `cuda-compiled`, which `bench/v1` times).
# The eager training step's speed and memory per precision (twice, 2026-11-26 and 2026-12-04: `hifigan train` replays
# a CUDA graph there, whose rows stay) and resume without --deterministic (weights within 1e-3 after 4 steps, twice).
CUDA_ASKED_ONLY = ("train/pipeline", "serve/load-no-delay", "bench/lever-compile",
                   *(f"inference/cudnn-benchmark/{name}" for name in ("v1", "v2", "v3")),
                   "train/fp32", "train/bf16", "train/bf16-mrd-stft", "train/resume-default")
CORPUS = ROOT / "data" / "ljspeech-mini"


@dataclass
class Settings:
    """Where and how big: `quick` swaps the official configs for tests/support/tiny.py ones (CI runs that on the
    CPU)."""

    device: torch.device
    quick: bool
    work: Path  # scratch folder for training runs
    corpus: Path = CORPUS


class Report:
    """The JSON report, rewritten atomically after every check so a run cut short keeps what it measured."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.data: dict[str, Any] = {"schema": SCHEMA, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                     "device": str(settings.device), "quick": settings.quick, "checks": {}}
        self.save()

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=_jsonable))
        os.replace(tmp, self.path)

    def run(self, name: str, check: Callable[[], dict[str, Any]]) -> bool:
        """Run one check; record {ok, seconds, result | error + traceback}. A check's own `failures` list
        (what it measured and found wrong) makes it not ok without an exception."""
        began = time.perf_counter()
        print(f"[gpu-check] {name} ...", flush=True)
        try:
            result = check()
            entry: dict[str, Any] = {"ok": not result.get("failures"), "result": result}
        except Exception as e:  # any failure, CUDA's included, is data: record it and go on
            entry = {"ok": False, "error": error_line(e, 500),
                     "traceback": traceback.format_exc()[-6000:]}
            _recover_device()
        entry["seconds"] = round(time.perf_counter() - began, 2)
        self.data["checks"][name] = entry
        self.save()
        verdict = "ok" if entry["ok"] else f"FAILED {entry.get('error') or entry['result'].get('failures')}"
        print(f"[gpu-check] {name}: {verdict} ({entry['seconds']} s)", flush=True)
        return entry["ok"]


def _jsonable(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Path | torch.device | torch.dtype):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _recover_device() -> None:
    """Free what a failed check left on the GPU (an out-of-memory error leaves its tensors to the collector)."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        try:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
        except Exception:  # a sticky CUDA error: later checks will record it themselves
            pass


def environment(settings: Settings) -> dict[str, Any]:
    """Versions, the host's CPU and the card: what the figures were measured with."""
    import torch

    from hifigan.runtime.machine import cpu_identity, cpu_text

    info: dict[str, Any] = {
        "python": platform.python_version(), "torch": torch.__version__, "cuda_runtime": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "host_cpu": cpu_text(cpu_identity()), "host_cores": os.cpu_count(), "cpu_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }
    if settings.device.type == "cuda":
        props = torch.cuda.get_device_properties(settings.device)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    capability=f"{props.major}.{props.minor}", multiprocessors=props.multi_processor_count,
                    nccl=".".join(map(str, torch.cuda.nccl.version())), driver=_nvidia_smi("driver_version"))
    return info


def _nvidia_smi(field: str) -> str | None:
    try:
        done = subprocess.run(["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=30)
        return done.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def all_checks(settings: Settings) -> dict[str, Callable[[], dict[str, Any]]]:
    """Name -> check, in the order they run (the most wanted figures first, in case time runs out)."""
    import gpu_inference
    import gpu_inference_levers
    import gpu_official
    import gpu_pipeline
    import gpu_serving
    import gpu_threads
    import gpu_training

    checks: dict[str, Callable[[], dict[str, Any]]] = {"environment": lambda: environment(settings)}
    for name in gpu_inference.config_names(settings):
        checks[f"inference/{name}"] = lambda name=name: gpu_inference.inference(name, settings)
    if settings.device.type == "cuda":
        for name in gpu_inference.config_names(settings):
            checks[f"inference/cudnn-benchmark/{name}"] = lambda name=name: gpu_inference.inference(
                name, settings, cudnn_lever=True)
    checks["bench/v1"] = lambda: gpu_inference.bench_command(settings)
    checks["threads/graphs"] = lambda: gpu_threads.overlapping_calls(settings)
    checks.update(gpu_official.checks(settings))
    checks["train/pipeline"] = lambda: gpu_pipeline.pipeline(settings)
    if settings.device.type == "cuda":
        checks["train/pipeline-cuda-graph"] = lambda: gpu_pipeline.pipeline(settings, cuda_graph=True)
    checks["serve/load"] = lambda: gpu_serving.serve_load(settings)
    if settings.device.type == "cuda":
        checks["serve/load-no-buckets"] = lambda: gpu_serving.serve_load(settings, shape_buckets="off")
        checks["serve/load-cuda-graph"] = lambda: gpu_serving.serve_load(settings, backend="cuda-graph")
        checks["serve/load-no-delay"] = lambda: gpu_serving.serve_load(settings, delay_ms=0.0)
    checks.update(gpu_training.checks(settings))  # measured before: speed, exact resume, NCCL
    checks["train/lever-compile"] = lambda: gpu_official.compile_lever(settings)  # minutes of compiling: last
    checks["bench/lever-compile"] = lambda: gpu_inference_levers.compile_lever(settings)
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json (created)")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--quick", action="store_true", help="tiny configs and few repeats (what CI runs on the CPU)")
    parser.add_argument("--only", nargs="+", metavar="PREFIX", help="run only the checks whose names start so "
                        f"(the only way to run {', '.join(ASKED_ONLY)}, and on CUDA {', '.join(CUDA_ASKED_ONLY)})")
    parser.add_argument("--work", type=Path, help="scratch folder for training runs (default OUT/work; removed)")
    args = parser.parse_args(argv)
    if args.device.split(":")[0] not in ("cuda", "cpu"):
        parser.error(f"--device {args.device}: use cuda or cpu")
    import torch

    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or args.out / "work"
    shutil.rmtree(work, ignore_errors=True)  # a run cut short left its runs there, and a new run refuses a used folder
    settings = Settings(torch.device(args.device), args.quick, work)
    report = Report(args.out / "gpu_check.json", settings)
    ok = True
    try:
        checks = all_checks(settings)
    except Exception as e:  # even a broken import is reported, not raised
        report.data["checks"]["setup"] = {"ok": False, "error": error_line(e, 500),
                                          "traceback": traceback.format_exc()[-6000:], "seconds": 0}
        report.save()
        return 1
    for name, check in checks.items():
        if args.only and not any(name.startswith(p) for p in args.only):
            continue
        if not args.only and name in (*ASKED_ONLY, *(CUDA_ASKED_ONLY if settings.device.type == "cuda" else ())):
            continue
        ok &= report.run(name, check)
    shutil.rmtree(work, ignore_errors=True)
    from gpu_table import table

    print(table(report.data), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
