"""A CPU server's memory and speed over many mel lengths, per `--shape-buckets` choice: each choice in a fresh process
vocodes the same random lengths as `hifigan serve`'s scheduler vocodes a lone request (`Vocoder.batch` of one mel,
every frame kept), with the Vocoder serve builds (`hifigan.serve.limits.serve_buckets`), random weights of a config.
Records VmRSS every few requests, CPU and wall time per request, audio seconds per second, and the median time of
one length asked again and again. Writes benchmarks/results/serve_memory_<model>.json and .md.

usage: python benchmarks/serve_memory.py [--model v3] [--requests 600] [--max-frames 1000] [--repeats 2]
Run from the repository root on an otherwise idle machine (tiny: tests/support's test model); rounds alternate the
choices, so that a drift of the machine touches both alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import child_process

RESULTS = Path(__file__).resolve().parent / "results"
CHOICES = ("off", "auto")  # serve's CPU default before 2026-12-06, and since


def rss_mb() -> float:
    return child_process.proc_status_kib("VmRSS")["VmRSS"] / 1024


def child(model: str, choice: str, requests: int, max_frames: int, every: int, repeated: int) -> dict:
    """One process's run: the curve of RSS, the per-request costs, the repeated length's median."""
    import numpy as np
    import torch

    from hifigan.inference.vocoder import Vocoder
    from hifigan.models import Generator
    from hifigan.serve.limits import serve_buckets

    cfg = child_process.benchmark_config(model)
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg, shape_buckets=serve_buckets(choice, "cpu"))
    vocoder.batch([torch.zeros(cfg.num_mels, 8), torch.zeros(cfg.num_mels, 5)])  # serve's warm-up
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, max_frames + 1, requests)
    curve = [(0, rss_mb())]
    wall, cpu = time.perf_counter(), time.process_time()
    for i, frames in enumerate(lengths, 1):
        mel = torch.from_numpy(rng.uniform(-11, -2, (cfg.num_mels, int(frames))).astype(np.float32))
        vocoder.batch([mel], keep=[(0, int(frames))])
        if i % every == 0:
            curve.append((i, rss_mb()))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mel = torch.from_numpy(rng.uniform(-11, -2, (cfg.num_mels, repeated)).astype(np.float32))
    times = []
    for _ in range(15):
        began = time.perf_counter()
        vocoder.batch([mel], keep=[(0, repeated)])
        times.append(time.perf_counter() - began)
    audio_s = float(lengths.sum()) * cfg.hop_size / cfg.sampling_rate
    return {"choice": choice, "backend": vocoder.backend, "curve": curve, "requests_per_s": requests / wall,
            "cpu_ms_per_request": 1000 * cpu / requests, "audio_s_per_s": audio_s / wall,
            "repeated_ms": 1000 * float(np.median(times)), "repeated_frames": repeated}


def run_child(*args: str) -> dict:
    return child_process.run_child(__file__, *args)


def table(rows: list[dict]) -> str:
    points = [i for i, _ in rows[0]["curve"]]
    picks = sorted({points[0], points[len(points) // 4], points[len(points) // 2], points[-1]})
    lines = ["| --shape-buckets | RSS MiB after " + " / ".join(map(str, picks)) + " requests | requests/s | "
             "audio s/s | CPU ms per request | one length again, ms |", "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        rss = dict(r["curve"])
        lines.append(f"| {r['choice']} | {' / '.join(f'{rss[p]:.0f}' for p in picks)} | {r['requests_per_s']:.2f} | "
                     f"{r['audio_s_per_s']:.2f} | {r['cpu_ms_per_request']:.1f} | {r['repeated_ms']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--model", default="v3", help="a preset (v1, v3, ...) or tiny")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--max-frames", type=int, default=1000, help="lengths are uniform in 1..this")
    parser.add_argument("--every", type=int, default=50, help="RSS sampled every this many requests")
    parser.add_argument("--repeated-frames", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2, help="rounds of every choice, alternating")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model, choice, *numbers = args.child
        print(json.dumps(child(model, choice, *map(int, numbers))))
        return
    rows = []
    for _ in range(args.repeats):
        for choice in CHOICES:
            rows.append(run_child(args.model, choice, str(args.requests), str(args.max_frames), str(args.every),
                                  str(args.repeated_frames)))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "curve"}), file=sys.stderr)
    from hifigan.runtime.machine import machine_info, machine_text

    meta = {"machine": machine_text(machine_info()), "model": args.model, "requests": args.requests,
            "max_frames": args.max_frames, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"serve_memory_{args.model}"
    stem.with_suffix(".json").write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    text = (f"{args.model}, {args.requests} requests of 1-{args.max_frames} frames, {meta['machine']}, "
            f"{meta['when']}\n\n{table(rows)}\n")
    stem.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
