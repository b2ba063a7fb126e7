"""gpu_check, inference: each CUDA backend at each precision against CPU fp32 eager and the official-style generator.

One config per check: a seeded random generator (weight norm kept, as a checkpoint loads), a 10 s log-mel of the
bundled LJSpeech clips, and
- per backend (eager, fused, the graph backends) and precision (fp32 with TF32 off, fp32 with TF32 convolutions =
  torch's default, fp16, bf16): max abs error against CPU fp32 eager, x real time (median of timed calls, audio
  copied back to the CPU included), speed against the official-style generator (tests/support/official_reference.py,
  weight norm removed as the official inference.py does) at torch's default settings in the same process, and peak
  GPU memory (cuDNN benchmark mode as a lever: its own check, `cudnn_lever`);
- a batch of 16 mels of ragged lengths (1-10 s) through `Vocoder.batch`: each equals its mel vocoded alone (the
  rows and the batch time passes of shapes set up before: shape buckets off; the next item measures them);
- mels of lengths not seen before (1-10 s) vocoded one at a time, shape buckets off and on (`Vocoder(shape_buckets=)`):
  what a new length costs, as a server or a folder of files meets them;
and `hifigan bench --device cuda` itself on V1 (the command a user runs; target: fp16 at 3500x real time or more).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import numpy as np
import torch
from gpu_failures import error_line
from gpu_inference_levers import cudnn_benchmark, top_kernels
from gpu_timing import peak_memory_mb, tf32, timed, timed_call

from hifigan.audio import find_audio, load_audio
from hifigan.checkpoints.official import ours_to_official
from hifigan.config import HifiganConfig, load_config
from hifigan.inference import Vocoder
from hifigan.inference.bench import clone_generator
from hifigan.inference.choices import device_backends
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator

SEED = 0
SECONDS = 10.0
BATCH = 16
PRECISIONS = ("fp32", "tf32", "fp16", "bf16")  # tf32: fp32 weights, convolutions in TF32 (torch's cuDNN default)
BACKENDS = device_backends("cuda")  # the backends that run on CUDA
# cuda-compiled compiles for 12-14 s per precision and config; its fp32, TF32 and bf16 rows were measured
# (H100, 2026-12-06, V1: 413x, 1474x and 2605x real time against fp16's 2743x), so the rows time fp16 alone.
COMPILED_PRECISIONS = ("fp16",)
GRAPH_TOLERANCE = 1e-3  # a graph backend's output against the same kernels run otherwise: a buffer or pool gone wrong


def config_names(settings) -> tuple[str, ...]:
    return ("tiny1", "tiny2") if settings.quick else ("v1", "v2", "v3")


def config_for(name: str) -> HifiganConfig:
    """An official config by name, or a tests/support/tiny.py one ("tiny1": ResBlock1, "tiny2": ResBlock2)."""
    if name.startswith("tiny"):
        from tests.support.tiny import tiny_config

        return tiny_config(resblock=name[-1])
    return load_config(name)


def corpus_mel(config: HifiganConfig, corpus, seconds: float) -> torch.Tensor:
    """[num_mels, seconds * rate / hop] log-mel of the corpus clips laid end to end (resampled if need be)."""
    clips, total = [], 0
    for path in find_audio(corpus, recursive=True):
        audio = load_audio(path, config.sampling_rate, resample=True)
        clips.append(audio)
        total += len(audio)
        if total >= seconds * config.sampling_rate:
            break
    mel = MelSpectrogram(**config.mel_kwargs()).checked(np.concatenate(clips))
    return mel[:, : round(seconds * config.sampling_rate / config.upsample_factor)].contiguous()


def official_generator(generator: Generator, config: HifiganConfig, device: torch.device) -> torch.nn.Module:
    """The official-style generator with the same weights, weight norm removed as the official inference does."""
    from tests.support.official_reference import RefGenerator

    ref = RefGenerator(config)
    ref.load_state_dict(ours_to_official(generator.state_dict()))
    for module in ref.modules():
        with contextlib.suppress(ValueError):  # modules without weight norm
            torch.nn.utils.remove_weight_norm(module)
    return ref.to(device).eval().requires_grad_(False)


def reference_case(name: str, corpus, seconds: float) -> tuple[HifiganConfig, Generator, torch.Tensor, float,
                                                                torch.Tensor]:
    """Config `name`'s seeded random generator, a `seconds` log-mel of the corpus [num_mels, T], its audio's
    seconds, and the audio CPU fp32 eager makes of it [T * hop] (what every backend is held to)."""
    config = config_for(name)
    torch.manual_seed(SEED)
    generator = Generator(config)
    mel = corpus_mel(config, corpus, seconds)
    audio_seconds = mel.shape[1] * config.upsample_factor / config.sampling_rate
    reference = Vocoder(clone_generator(generator, config), config, "cpu", "eager")(mel)
    return config, generator, mel, audio_seconds, reference


def inference(name: str, settings, cudnn_lever: bool = False) -> dict[str, Any]:
    """The per-config inference check (see the module docstring); `cudnn_lever`: instead of the rows, the batch and
    the new lengths, the fused and graph backends with cuDNN benchmark mode (measured 2026-12-04 on an H200: no
    faster, V2 `cuda-graph` fp16 18% slower), against the official generator as the rows are."""
    device, quick = settings.device, settings.quick
    config, generator, mel, audio_seconds, reference = reference_case(name, settings.corpus,
                                                                      0.5 if quick else SECONDS)
    peak = float(reference.abs().max())
    official = official_generator(generator, config, device)
    mel_dev = mel.unsqueeze(0).to(device)

    def run_official() -> torch.Tensor:
        with torch.inference_mode():
            return official(mel_dev).float().cpu()

    result: dict[str, Any] = {"config": name, "audio_seconds": round(audio_seconds, 3), "frames": mel.shape[1],
                              "reference_peak": peak, "rows": [], "failures": []}
    with tf32(True):  # torch's defaults: what the official code gets
        official_time = timed(run_official, device, quick)
        official_err = float((run_official()[0, 0] - reference).abs().max())
    with tf32(False):
        official_fp32_time = timed(run_official, device, quick)
    result["official"] = {"tf32_default": official_time, "fp32": official_fp32_time, "max_abs_err": official_err,
                          "x_real_time": audio_seconds / official_time["median_s"]}
    precisions = PRECISIONS if device.type == "cuda" else ("fp32", "bf16")
    backends = tuple(b for b in BACKENDS if b in device_backends(device.type))  # the CPU: eager and fused

    def row(backend: str, precision: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"backend": backend, "precision": precision}
        try:
            with tf32(precision == "tf32"):
                vocoder = Vocoder(clone_generator(generator, config), config, device, backend,
                                  precision="fp32" if precision == "tf32" else precision, shape_buckets=False)
                out = vocoder(mel)
                err = float((out - reference).abs().max())
                speed = timed(lambda v=vocoder: v(mel), device, quick)
                entry.update(max_abs_err=err, rel_err=err / peak, **speed,
                             x_real_time=audio_seconds / speed["median_s"],
                             speedup_vs_official=official_time["median_s"] / speed["median_s"],
                             peak_mb=peak_memory_mb(lambda v=vocoder: v(mel), device))
                if not torch.isfinite(out).all():
                    result["failures"].append(f"{backend}/{precision}: non-finite output")
                if precision == "fp16" and backend == "fused" and device.type == "cuda" and not quick:
                    result["fp16_kernels"] = top_kernels(lambda v=vocoder: v(mel))
        except Exception as e:  # one failing combination must not hide the others
            entry["error"] = error_line(e)
            result["failures"].append(f"{backend}/{precision}: {entry['error']}")
        return entry

    if cudnn_lever:  # cuDNN times its algorithms for each convolution's shape, then keeps the best
        with cudnn_benchmark():
            result["rows"] = [{**row(backend, precision), "lever": "cudnn-benchmark"} for precision in ("tf32", "fp16")
                              for backend in ("fused", "cuda-graph", "cuda-compiled")]
        return result
    result["rows"] = [row(backend, precision) for precision in precisions for backend in backends
                      if backend != "cuda-compiled" or precision in COMPILED_PRECISIONS]
    result["batch"] = ragged_batch(generator, config, mel, device, quick)
    if device.type == "cuda":  # as a GPU user vocodes (`hifigan vocode --precision fp16 --batch 16`)
        result["batch_fp16"] = ragged_batch(generator, config, mel, device, quick, "fp16")
    result["new_lengths"] = new_lengths(generator, config, mel, device, quick)
    if result["batch"]["max_abs_diff_vs_alone"] > 1e-4:
        result["failures"].append(f"batch differs from alone by {result['batch']['max_abs_diff_vs_alone']:.3g}")
    if result["new_lengths"].get("graph_max_abs_diff", 0.0) > GRAPH_TOLERANCE:
        result["failures"].append(f"cuda-graph over new lengths differs from auto by "
                                  f"{result['new_lengths']['graph_max_abs_diff']:.3g}")
    return result


def ragged_batch(generator: Generator, config: HifiganConfig, mel: torch.Tensor, device: torch.device,
                 quick: bool, precision: str = "fp32") -> dict[str, Any]:
    """16 mels of 10-100% of `mel`'s length (seeded), in `precision` (fp32: with TF32 off, where a long V1 mel
    alone keeps the card's fp32 units busy): batched vs one by one."""
    rng = np.random.default_rng(SEED)
    frames = mel.shape[1]
    lengths = sorted(int(n) for n in rng.integers(max(1, frames // 10), frames + 1, size=BATCH))
    mels = [mel[:, :n] for n in lengths]
    with tf32(False):
        vocoder = Vocoder(clone_generator(generator, config), config, device, "auto", precision, shape_buckets=False)
        together = vocoder.batch(mels)
        alone = [vocoder(m) for m in mels]
        diff = max(float((a - b).abs().max()) for a, b in zip(together, alone))
        batch_time = timed(lambda: vocoder.batch(mels), device, quick)
        alone_time = timed(lambda: [vocoder(m) for m in mels], device, quick)
        peak = peak_memory_mb(lambda: vocoder.batch(mels), device)
    seconds = sum(lengths) * config.upsample_factor / config.sampling_rate
    return {"backend": vocoder.backend, "precision": precision, "lengths": lengths, "max_abs_diff_vs_alone": diff,
            "batch": batch_time, "one_by_one": alone_time, "x_real_time": seconds / batch_time["median_s"],
            "speedup_vs_one_by_one": alone_time["median_s"] / batch_time["median_s"], "peak_mb": peak}


def new_lengths(generator: Generator, config: HifiganConfig, mel: torch.Tensor, device: torch.device,
                quick: bool) -> dict[str, Any]:
    """Rounds of 16 mels of 10-100% of `mel`'s length, none seen before in this process, vocoded one at a time
    (torch's default precision) with shape buckets off, then with them on (other lengths again): seconds per round.
    A convolution library sets up each new shape once; buckets bring a new length to shapes already set up.
    On CUDA also `graph`: the `cuda-graph` backend with buckets (other lengths again), each shape captured once
    into the graphs' shared memory pool, its outputs against the bucketed `auto` vocoder's (`graph_max_abs_diff`)."""
    rng = np.random.default_rng(SEED + 1)
    frames = mel.shape[1]
    rounds, per = (1, 4) if quick else (3, BATCH)
    modes = {"off": ("auto", False), "on": ("auto", True)}
    if device.type == "cuda":
        modes["graph"] = ("cuda-graph", True)
    pool = [int(n) for n in rng.permutation(np.arange(max(1, frames // 10), frames))]  # not `frames`: timed above
    pool = (pool * (len(modes) * rounds * per // len(pool) + 1))[: len(modes) * rounds * per]  # quick: repeats
    result: dict[str, Any] = {}
    vocoders = {}
    for mode, (backend, buckets) in modes.items():
        vocoder = vocoders[mode] = Vocoder(clone_generator(generator, config), config, device, backend,
                                           shape_buckets=buckets)
        seconds, seen = [], []
        for _ in range(rounds):
            lengths, pool = pool[:per], pool[per:]
            seen += lengths
            seconds.append(timed_call(device, lambda v=vocoder, ls=lengths: [v(mel[:, :n]) for n in ls])[0])
        result[mode] = {"backend": vocoder.backend, "round_s": seconds}
    if "graph" in modes:  # the graphs' lengths again, each against the plain bucketed backend
        graph, plain = vocoders["graph"], vocoders["on"]
        try:
            result["graph_max_abs_diff"] = max(float((graph(mel[:, :n]) - plain(mel[:, :n])).abs().max())
                                               for n in seen)
        except Exception as e:  # recorded as a failure by the caller; the rest of the inference check stands
            result["graph_max_abs_diff"], result["graph_error"] = float("inf"), f"{type(e).__name__}: {e}"[:300]
    result["rounds"], result["mels_per_round"] = rounds, per
    result["buckets_speedup_last_round"] = result["off"]["round_s"][-1] / result["on"]["round_s"][-1]
    return result


TARGET_X_REAL_TIME = 3500  # V1, 10 s, fp16 (issue 24)


def bench_command(settings) -> dict[str, Any]:
    """`hifigan bench --device cuda --config v1 --seconds 10` over eager, fused and the graph backends in fp32 and fp16
    (quick: the tiny2 config, 0.5 s, the CPU's eager and fused); its JSON, and whether the best fp16 row reaches the
    target."""
    from hifigan.cli import main

    out = settings.work / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    cuda = settings.device.type == "cuda"
    entries = ("eager,fused,cuda-graph,cuda-compiled,fused:fp16,cuda-graph:fp16,cuda-compiled:fp16,eager:fp16"
               if cuda else "eager,fused")
    argv = ["bench", "--device", str(settings.device), "--backends", entries, "-o", str(out)]
    if settings.quick:  # the command's whole path on a tiny config file (V3 took 10 s of the CI's CPU here)
        from tests.support.files import save_config_json

        save_config_json(settings.work / "tiny2.json", config_for("tiny2"))
        sizes = ["--config", str(settings.work / "tiny2.json"), "--seconds", "0.5", "--repeats", "1"]
    else:
        sizes = ["--config", "v1", "--seconds", "10"]
    argv += [*sizes, "--no-memory"]  # peak memory: the inference rows measure it
    if main(argv) != 0:
        raise RuntimeError(f"hifigan {' '.join(argv)} failed (its error is printed above)")
    result = json.loads(out.read_text())
    half = [r for r in result["backends"] if r["precision"] == "fp16"]
    best = max(half, key=lambda r: r["x_real_time"], default=None)
    met = best is not None and best["x_real_time"] >= TARGET_X_REAL_TIME
    result.update(command="hifigan " + " ".join(argv), target_x_real_time=TARGET_X_REAL_TIME,
                  best_fp16=best and best["backend"], target_met=met, failures=[])
    return result
