"""The library of `hifigan bench` (the command's options: cli/bench.py): speed (x real time) and peak memory of
every backend against the plain eager generator.

All backends share one set of random weights and one mel and are timed in the same process, interleaved
and repeated (the median is reported, the minimum kept), so a busy machine skews them alike. Peak RSS is
measured in a fresh subprocess per backend, since a process's high-water mark never goes down; that process
also times the backend alone ("solo"): eager PyTorch's time depends on how often its fresh full-length buffers
page-fault, which depends on what else the process has allocated, so both views are reported.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any

import torch
from torch import nn

from hifigan.config import HifiganConfig, load_config
from hifigan.errors import HifiganError
from hifigan.inference.bench_stream import WARM_UP_PASSES, stream_info, upper_median
from hifigan.inference.choices import BENCH_BACKENDS, bench_entry
from hifigan.inference.streaming import split_frames
from hifigan.inference.vocoder import Vocoder
from hifigan.models.generators import build_generator, empty_generator, fold_norms
from hifigan.runtime.machine import machine_info
from hifigan.runtime.threads import intra_op_threads

SEED = 0


def bench_inputs(config_name: str, seconds: float, pretrained: str | None = None
                 ) -> tuple[Any, nn.Module, torch.Tensor]:
    """Config, generator (weight norm kept, as a checkpoint loads: seeded random weights, or a registered
    pretrained model's) and a seeded mel."""
    if pretrained is not None:
        from hifigan.pretrained import load_pretrained

        generator, cfg = load_pretrained(pretrained)
    else:
        cfg = load_config(config_name)
        torch.manual_seed(SEED)
        generator = build_generator(cfg)
    frames = max(1, round(cfg.seconds_frames(seconds)))
    mel = torch.randn(cfg.num_mels, frames, generator=torch.Generator().manual_seed(SEED)) - 5.0
    return cfg, generator, mel


def clone_generator(generator: nn.Module, cfg: Any) -> nn.Module:
    """An independent copy with the same weights (a deepcopy shares torch's parametrized classes: folding its
    weight norm would break the original's)."""
    clone = empty_generator(cfg)
    clone.load_state_dict(generator.state_dict())
    return clone


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_in_fresh_process(
    config_name: str, seconds: float, backend: str, threads: int, chunk_frames: int = 0, repeats: int = 0,
    pretrained: str | None = None, device: str = "cpu",
) -> dict:
    """In a fresh process: peak RSS (and on a GPU peak device memory) before and after vocoding (chunked when
    `chunk_frames` > 0), and with `repeats` the median time of that many further runs (the backend alone).
    A run that fails raises HifiganError with the child's own one-line error: a figure is never silently missing."""
    spec = json.dumps(dict(config=config_name, seconds=seconds, backend=backend, threads=threads,
                           chunk_frames=chunk_frames, repeats=repeats, pretrained=pretrained, device=device))
    proc = subprocess.run([sys.executable, "-m", "hifigan.inference.bench", "--child", spec],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        what = f"streaming in {chunk_frames}-frame chunks" if chunk_frames else "one-shot"
        raise HifiganError(None, f"the memory run of {backend} ({what}, {seconds:g} s of audio on {device}) "
                                 f"failed: {why}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _timed_vocoder(generator: nn.Module, cfg: HifiganConfig, device: str, backend: str, precision: str
                   ) -> Vocoder:
    """A Vocoder whose passes are the input's own: shape buckets (on by default with CUDA) serve lengths not seen
    before, and would time padded passes until the shape had come back Buckets.exact_after times (in the table's
    runs and in each fresh process's memory run alike)."""
    return Vocoder(generator, cfg, device, backend, precision, shape_buckets=False)


def _child(spec: dict) -> dict:
    torch.set_num_threads(spec["threads"])
    cfg, generator, mel = bench_inputs(spec["config"], spec["seconds"], spec.get("pretrained"))
    backend, precision = bench_entry(spec["backend"])
    vocoder = _timed_vocoder(generator, cfg, spec.get("device", "cpu"), backend, precision)
    before = _peak_rss_mb()
    start = time.perf_counter()
    if spec["chunk_frames"]:
        samples = sum(len(a) for a in vocoder.stream(split_frames(mel, spec["chunk_frames"]),
                                                     min_frames=spec["chunk_frames"]))
    else:
        samples = len(vocoder(mel))
    assert samples == mel.shape[1] * cfg.hop_size
    result = {"rss_before_mb": round(before, 1), "peak_rss_mb": round(_peak_rss_mb(), 1),
              "seconds": round(time.perf_counter() - start, 2)}
    if vocoder.device.type == "cuda":
        result["peak_device_mb"] = round(torch.cuda.max_memory_allocated(vocoder.device) / 2**20, 1)
    times = []
    for _ in range(spec.get("repeats", 0)):
        start = time.perf_counter()
        vocoder(mel)
        times.append(time.perf_counter() - start)
    if times:
        result["solo_median_s"] = round(upper_median(times), 4)
    return result


def run_bench(
    config_name: str = "v1", seconds: float = 10.0, repeats: int = 5, backends: tuple[str, ...] = BENCH_BACKENDS,
    threads: int = 2, memory: bool = True, stream_chunk_frames: int = 32, stream_memory_minutes: float = 0.0,
    pretrained: str | None = None, device: str = "cpu",
) -> dict[str, Any]:
    """Time every backend ("fused", or "fused:bf16" for a precision) on one `seconds`-long random mel on `device`;
    eager (weight norm folded, fp32) is the baseline; every time includes the audio's copy back to the CPU.
    Weights: seeded random ones of `config_name`, or the registered model `pretrained` (its own config)."""
    with intra_op_threads(threads):  # torch's count is process-wide: the caller's comes back afterwards
        return _run_bench(config_name, seconds, repeats, backends, threads, memory, stream_chunk_frames,
                          stream_memory_minutes, pretrained, device)


def _run_bench(
    config_name: str, seconds: float, repeats: int, backends: tuple[str, ...], threads: int, memory: bool,
    stream_chunk_frames: int, stream_memory_minutes: float, pretrained: str | None, device: str,
) -> dict[str, Any]:
    cfg, generator, mel = bench_inputs(config_name, seconds, pretrained)
    on_device = mel.to(device)
    if pretrained is not None:
        from hifigan.pretrained import get_model

        config_name = get_model(pretrained).config
    audio_seconds = cfg.frames_seconds(mel.shape[1])
    baseline = fold_norms(clone_generator(generator, cfg).to(device).eval())
    runners: dict[str, Vocoder | None] = {"eager": None}
    for entry in backends:
        if entry != "eager":
            backend, precision = bench_entry(entry)
            runners[entry] = _timed_vocoder(clone_generator(generator, cfg), cfg, device, backend, precision)

    def run(name: str) -> torch.Tensor:
        if name == "eager":
            with torch.inference_mode():
                return baseline(on_device.unsqueeze(0))[0, 0].cpu()
        return runners[name](mel)

    for _ in range(WARM_UP_PASSES):  # oneDNN's first call of a shape in a process can round differently (4e-6 on V1)
        for name in runners:
            run(name)
    reference = run("eager")
    diffs = {name: float((run(name) - reference).abs().max()) for name in runners}
    times: dict[str, list[float]] = {name: [] for name in runners}
    faults: dict[str, list[int]] = {name: [] for name in runners}  # first touches of fresh memory (4 KB each)
    for _ in range(repeats):
        for name in runners:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.perf_counter()
            run(name)
            times[name].append(time.perf_counter() - start)
            faults[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    base = upper_median(times["eager"])
    rows = []
    for name in runners:
        median = upper_median(times[name])
        row = {"backend": name, "precision": bench_entry(name)[1], "median_s": round(median, 4),
               "min_s": round(min(times[name]), 4), "x_real_time": round(audio_seconds / median, 2),
               "speedup_vs_eager": round(base / median, 3),
               "speedup_vs_eager_min": round(min(times["eager"]) / min(times[name]), 3),
               "page_faults": upper_median(faults[name]), "max_abs_diff": diffs[name]}
        if memory:
            child = run_in_fresh_process(config_name, seconds, name, threads, repeats=repeats, pretrained=pretrained,
                                         device=device)
            row["peak_rss_mb"], row["solo_median_s"] = child.get("peak_rss_mb"), child.get("solo_median_s")
            if "peak_device_mb" in child:
                row["peak_device_mb"] = child["peak_device_mb"]
        rows.append(row)
    solo_base = rows[0].get("solo_median_s")
    for row in rows:  # each backend alone in a fresh process: no allocator state left by the others
        if solo_base and row.get("solo_median_s"):
            row["solo_speedup_vs_eager"] = round(solo_base / row["solo_median_s"], 3)
    auto = Vocoder(clone_generator(generator, cfg), cfg, device, backend="auto")
    stream = stream_info(auto, mel, stream_chunk_frames)
    result: dict[str, Any] = {
        "config": config_name, "weights": pretrained or f"random (seed {SEED})",
        "audio_seconds": round(audio_seconds, 3), "repeats": repeats,
        "machine": machine_info(device), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "baseline": f"Generator, weight norm removed, eval, torch.inference_mode, torch.set_num_threads({threads})",
        "backends": rows, "auto": auto.backend, "stream": stream,
    }
    if stream_memory_minutes > 0:  # streamed at full length; one-shot on one minute (it grows linearly)
        result["stream_memory"] = {  # both on what `auto` chose (the children take concrete backends only)
            "minutes": stream_memory_minutes, "chunk_frames": 500, "backend": auto.backend,
            **run_in_fresh_process(config_name, 60 * stream_memory_minutes, auto.backend, threads, chunk_frames=500,
                                   pretrained=pretrained, device=device),
            "one_shot_60s": run_in_fresh_process(config_name, 60, auto.backend, threads, pretrained=pretrained,
                                                 device=device),
        }
    return result


def _child_main(spec: str) -> int:
    """The memory child: its result as one JSON line, or its error as one line on stderr (exit 2)."""
    try:
        print(json.dumps(_child(json.loads(spec))))
    except HifiganError as e:
        print(e, file=sys.stderr)
        return 2
    except Exception as e:  # the parent reports this line as the run's failure
        print(f"{type(e).__name__}: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2]))
