"""gpu_check, serving: benchmarks/serve_load.py on the device, the batching server against --max-batch 1 with
whole requests and streams, and the model alone (streaming windows of 8 streams in one pass against one by one)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def serve_load(settings, delay_ms: float | None = None, shape_buckets: str = "auto",
               backend: str = "auto") -> dict[str, Any]:
    """Run serve_load.py (V1, 1 and 16 clients, utterances of 1-3 s; quick: V3, 1 and 2 clients, short utterances)
    and return its JSON with each cell's throughput over --max-batch 1's. `delay_ms`: the batching servers'
    --max-batch-delay-ms (default: serve's own); on an H200 a V1 pass of 2 s takes ~2 ms, less than the default wait
    for a batch to fill, and waiting less did not help (2026-12-04). `shape_buckets`: the servers' --shape-buckets
    (auto: on with CUDA). `backend`: the servers' --backend (`cuda-graph`: each pass one replay, so the worker takes
    Python's GIL back once a pass, not once a kernel launch, while the event loop handles the clients)."""
    name = "serve_load" if delay_ms is None else f"serve_load_delay{delay_ms:g}"
    name += "" if shape_buckets == "auto" else f"_buckets_{shape_buckets}"
    out = settings.work / (name if backend == "auto" else f"{name}_{backend}")
    out.parent.mkdir(parents=True, exist_ok=True)
    # On the GPU each cell runs once untimed first (--warm): a batch shape's first pass there costs far more than
    # the next (cuDNN sets the shape up; `hifigan bench`'s streaming line showed a 104 ms worst chunk against a 7 ms
    # median), and a cell's 32 requests are too few to hide the batched server's new shapes.
    # Lengths vary (as a TTS stack's do): each new length is a new pass shape, what --shape-buckets is for; the
    # H200 runs recorded in docs/gpu.md sent 2 s utterances only.
    sizes = (["--models", "v3", "--clients", "1", "2", "--utterance-s", "0.5", "--requests", "1"] if settings.quick
             else ["--models", "v1", "--clients", "1", "16", "--warm", "--utterance-spread", "0.5"])
    sizes += ["--shape-buckets", shape_buckets, "--backend", backend]
    if delay_ms is not None:
        sizes += ["--delay-ms", f"{delay_ms:g}"]
    cmd = [sys.executable, str(HERE / "serve_load.py"), *sizes, "--device", str(settings.device), "--out", str(out)]
    # Its own process group, so that a run past the limit (~1 min expected on a GPU) takes its servers with it.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"command": " ".join(cmd), "failures": ["serve_load.py ran past 240 s: killed with its servers"]}
    if proc.returncode != 0:
        return {"command": " ".join(cmd), "failures": [f"serve_load.py exited {proc.returncode}: "
                                                       f"{stderr.strip()[-1500:]}"]}
    results = json.loads(out.with_suffix(".json").read_text())
    # Beside each ratio, where the time went in each server: its worker's busy share and the model's ms per audio s.
    results["batched_over_single"] = [
        {"model": c["model"], "mode": c["batched"]["mode"], "clients": c["batched"]["clients"],
         "ratio": c["batched"]["throughput"] / c["single"]["throughput"],
         **{key: [c["batched"][key], c["single"][key]] for key in ("busy", "model_ms_per_audio_s",
                                                                   "worker_cpu_share")}}
        for c in results["cells"]]
    results["failures"] = []
    return results
