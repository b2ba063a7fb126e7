"""Load on `hifigan serve`: 1, 4 and 16 concurrent clients, whole requests and streams (20-frame messages), each
load served by a dynamically batching server and by one with --max-batch 1, interleaved in one run.

Reports per cell the aggregate throughput (audio seconds per wall second), time to first audio and request latency
(p50, p99), and from the server's /metrics: the mean batch size it ran, the share of the wall its worker spent
vocoding, the model's milliseconds per audio second so served, the worker's CPU share of that time, and a mel's mean
wait for its batch. Writes JSON and a Markdown table (serve_load_table.py).

    python benchmarks/serve_load.py --models lj-v1 v3 --out benchmarks/results/serve_load_cpu   # ~4 min, idle 2 cores
    python benchmarks/serve_load.py --models v3 --clients 1 4 --utterance-s 1 --requests 1      # a quick look

lj-v1 is the pretrained V1 (`--pretrained lj-v1`); v1, v2 and v3 are random weights of those configs (speed does
not depend on the weights). The servers are real `hifigan serve` processes on 127.0.0.1; the clients are
hifigan.serve.client.AsyncClient in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
from serve_load_table import markdown

from hifigan.inference.choices import SHAPE_BUCKETS
from hifigan.serve.client import AsyncClient

REPO = Path(__file__).resolve().parent.parent


def _checkpoint(name: str, work: Path) -> list[str]:
    """The model options of `hifigan serve` for a model name: pretrained, or a config's random weights."""
    if name in ("lj-v1", "universal-v1"):
        return ["--pretrained", name]
    import torch

    from hifigan.checkpoints.format import generator_payload, write_checkpoint
    from hifigan.config import load_config
    from hifigan.models.generators import build_generator

    config = load_config(name)
    torch.manual_seed(0)
    path = work / f"{name}-random.pt"
    write_checkpoint(path, generator_payload(build_generator(config).state_dict(), config))
    return ["--checkpoint", str(path)]


def model_alone(model: list[str], message_frames: int, batch: int, threads: int | None, device: str,
                backend: str, shape_buckets: str = "auto") -> dict:
    """The model's compute alone, without a server: a streaming window (the message plus the receptive field)
    vocoded `batch` at a time in one pass, against one at a time (each the best of 3 rounds), in this process. What
    batching gains beyond this ratio in a server, it gains on the per-pass costs around the model."""
    import torch

    from hifigan.inference.vocoder import Vocoder
    from hifigan.runtime.threads import quota_threads

    torch.set_num_threads(threads or quota_threads() or torch.get_num_threads())  # the server's default
    load = Vocoder.from_pretrained if model[0] == "--pretrained" else Vocoder.from_checkpoint
    vocoder = load(model[1], device=device, backend=backend, shape_buckets=SHAPE_BUCKETS[shape_buckets])
    field = vocoder.receptive_field
    width = message_frames + field.left + field.right
    rng = np.random.default_rng(0)
    windows = [torch.from_numpy((rng.standard_normal((vocoder.config.num_mels, width)) - 5).astype(np.float32))
               for _ in range(batch)]

    def best(run) -> tuple[float, float]:
        """Seconds per window: the first call (a shape new to the process: on a GPU, cuDNN sets it up) and the
        best of 3 after it."""
        started = time.perf_counter()
        run()
        first = time.perf_counter() - started
        times = []
        for _ in range(3):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return first / batch, min(times) / batch

    alone_first, alone = best(lambda: [vocoder(w) for w in windows])
    together_first, together = best(lambda: vocoder.batch(windows))
    return {"window_frames": width, "batch": batch, "backend": vocoder.backend,
            "alone_ms_per_window": round(1000 * alone, 2), "batched_ms_per_window": round(1000 * together, 2),
            "ratio": round(alone / together, 3),
            "first_call_ms": {"alone": round(1000 * alone_first * batch, 2),
                              "batched": round(1000 * together_first * batch, 2)}}


def start_server(model: list[str], max_batch: int, args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "hifigan", "serve", *model, "--port", "0", "--device", args.device,
           "--backend", args.backend, "--shape-buckets", args.shape_buckets,
           "--max-batch", str(max_batch), "--max-batch-delay-ms", str(args.delay_ms), "--max-streams", "256",
           "--max-frames", "100000"]
    if args.threads is not None:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stderr.readline()  # where it listens; then, once the model is loaded, "ready"
    found = re.search(r" event=listening url=(\S+) ", line)
    if found:
        line += (ready := proc.stderr.readline())
        found = found if " event=ready " in ready else None
    if not found:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read()}")
    log = Path(tempfile.gettempdir()) / f"serve_load_{proc.pid}.log"

    def drain() -> None:  # the request log goes to a file, not into a pipe that fills
        with log.open("w") as out:
            for text in proc.stderr:
                out.write(text)

    threading.Thread(target=drain, daemon=True).start()
    return proc, found.group(1)


TOTALS = (*(f"{name}_{part}" for name in ("hifigan_batch_size", "hifigan_batch_seconds", "hifigan_queue_wait_seconds")
            for part in ("count", "sum")), "hifigan_batch_cpu_seconds_total")


def _totals(page: str) -> dict[str, float]:
    """The counts and sums of the server's batch histograms on a /metrics page."""
    return {name: float(re.search(rf"^{name} (\S+)$", page, re.M).group(1)) for name in TOTALS}


async def paced(pieces: list[np.ndarray], every_s: float) -> AsyncIterator[np.ndarray]:
    """The messages of a stream as an acoustic model emits them: one every `every_s` seconds."""
    for piece in pieces:
        yield piece
        await asyncio.sleep(every_s)


async def run_cell(url: str, mode: str, clients: int, mels: list[np.ndarray], message_frames: int,
                   sampling_rate: int, hop: int, rate: float = 0.0) -> dict:
    """`clients` clients at once, each sending its mels one after another; the cell's figures."""
    first, latency, audio_seconds = [], [], 0.0
    async with AsyncClient(url, timeout=600) as client:
        before = _totals((await client.http.get("/metrics")).text)

        async def one(i: int) -> None:
            nonlocal audio_seconds
            for mel in mels[i::clients]:
                started = time.monotonic()
                if mode == "whole":
                    audio = await client.vocode(mel, "wav")
                    first.append(time.monotonic() - started)
                else:
                    pieces = [mel[:, s : s + message_frames] for s in range(0, mel.shape[1], message_frames)]
                    result = await client.stream(paced(pieces, message_frames * hop / sampling_rate / rate)
                                                 if rate > 0 else pieces)
                    audio = result.audio
                    first.append(result.first_audio_s)
                latency.append(time.monotonic() - started)
                assert audio.shape[0] == mel.shape[1] * hop
                audio_seconds += audio.shape[0] / sampling_rate

        wall = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(clients)))
        wall = time.monotonic() - wall
        after = _totals((await client.http.get("/metrics")).text)
    d = {name: after[name] - before[name] for name in TOTALS}
    ms = lambda xs, q: round(1000 * float(np.percentile(xs, q)), 1)  # noqa: E731
    return {"mode": mode, "clients": clients, "requests": len(latency), "audio_s": round(audio_seconds, 3),
            "wall_s": round(wall, 3), "throughput": round(audio_seconds / wall, 3),
            "first_audio_p50_ms": ms(first, 50), "first_audio_p99_ms": ms(first, 99),
            "latency_p50_ms": ms(latency, 50), "latency_p99_ms": ms(latency, 99),
            "mean_batch": round(d["hifigan_batch_size_sum"] / max(1.0, d["hifigan_batch_size_count"]), 2),
            # Where a request's time goes: the share of the wall the server's worker spent vocoding, its
            # milliseconds per audio second (the model's cost as served), and a mel's mean wait for its batch.
            "busy": round(d["hifigan_batch_seconds_sum"] / wall, 3),
            "model_ms_per_audio_s": round(1000 * d["hifigan_batch_seconds_sum"] / audio_seconds, 2),
            # The worker's CPU seconds (its thread's and the split pool's) over its batches' seconds; at --threads 1
            # the rest it waited (GPU, a core, the GIL).
            "worker_cpu_share": round(d["hifigan_batch_cpu_seconds_total"] / max(1e-9, d["hifigan_batch_seconds_sum"]),
                                      3),
            "mean_wait_ms": round(1000 * d["hifigan_queue_wait_seconds_sum"]
                                  / max(1.0, d["hifigan_queue_wait_seconds_count"]), 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--models", nargs="+", default=["lj-v1", "v3"])
    p.add_argument("--clients", nargs="+", type=int, default=[1, 4, 16])
    p.add_argument("--modes", nargs="+", default=["whole", "stream"], choices=["whole", "stream"])
    p.add_argument("--utterance-s", type=float, default=2.0, help="seconds of audio per request")
    p.add_argument("--utterance-spread", type=float, default=0.0, metavar="F",
                   help="each request's length drawn uniformly from utterance-s x [1 - F, 1 + F] (default 0: all "
                        "equal); a TTS stack's lengths vary, and each new length is a new pass shape")
    p.add_argument("--requests", type=int, default=2, help="requests per client")
    p.add_argument("--message-frames", type=int, default=20)
    p.add_argument("--stream-rate", type=float, default=0.0,
                   help="send stream messages at this many times real time (an acoustic model's pace); 0: at once")
    p.add_argument("--max-batch", type=int, default=16)
    p.add_argument("--delay-ms", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=None, help="torch threads per server")
    p.add_argument("--device", default="cpu")
    p.add_argument("--backend", default="auto", help="the servers' --backend (invariant: bit-exact batching)")
    p.add_argument("--shape-buckets", default="auto", choices=tuple(SHAPE_BUCKETS),
                   help="the servers' --shape-buckets (and the model-alone line's)")
    p.add_argument("--warm", action="store_true",
                   help="run each cell once untimed before timing it: every batch shape its load makes is then set up "
                        "(on a GPU a shape's first pass costs far more than the next; the default warms one request)")
    p.add_argument("--under-load", action="store_true", help="mark the figures as taken on a shared machine")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "serve_load")
    args = p.parse_args()
    import torch

    from hifigan.config import load_config
    from hifigan.runtime.machine import cpu_identity, cpu_text

    cells, alone = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            config = load_config("v1" if name in ("lj-v1", "universal-v1") else name)
            frames = round(config.seconds_frames(args.utterance_s))
            model = _checkpoint(name, Path(tmp))
            alone[name] = model_alone(model, args.message_frames, min(8, args.max_batch), args.threads,
                                      args.device, args.backend, args.shape_buckets)
            print(json.dumps({"model": name, "model_alone": alone[name]}), flush=True)
            servers = {key: start_server(model, size, args) for key, size in (("batched", args.max_batch),
                                                                                ("single", 1))}
            try:
                warm = [(np.random.default_rng(0).standard_normal((config.num_mels, frames)) - 5).astype(np.float32)]
                for _, url in servers.values():  # first calls of each shape are slow: not part of any cell
                    for mode in args.modes:
                        asyncio.run(run_cell(url, mode, 1, warm, args.message_frames, config.sampling_rate,
                                             config.hop_size))
                for mode in args.modes:
                    for clients in args.clients:
                        rng = np.random.default_rng(clients)
                        sizes = [max(1, round(frames * (1 + args.utterance_spread * u)))
                                 for u in rng.uniform(-1, 1, clients * args.requests)]
                        mels = [(rng.standard_normal((config.num_mels, n)) - 5).astype(np.float32) for n in sizes]
                        cell = {"model": name}
                        for key in ("batched", "single"):  # interleaved: the same load, one after the other
                            for _ in range(2 if args.warm else 1):  # the last run is the one kept
                                cell[key] = asyncio.run(run_cell(servers[key][1], mode, clients, mels,
                                                                 args.message_frames, config.sampling_rate,
                                                                 config.hop_size, args.stream_rate))
                        cells.append(cell)
                        print(json.dumps(cell), flush=True)
            finally:
                for proc, _ in servers.values():
                    proc.terminate()
                    proc.wait(timeout=60)
    results = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": f"{cpu_text(cpu_identity())}, {os.cpu_count()} cores, "
                          f"torch {torch.__version__}, device {args.device}",
               "under_load": args.under_load, "utterance_s": args.utterance_s,
               "utterance_spread": args.utterance_spread, "shape_buckets": args.shape_buckets,
               "requests_per_client": args.requests,
               "message_frames": args.message_frames,
               "stream_rate": args.stream_rate, "max_batch": args.max_batch, "delay_ms": args.delay_ms,
               "threads": args.threads, "backend": args.backend, "warm": args.warm, "command": " ".join(sys.argv),
               "cells": cells,
               "model_alone": alone}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
