"""gpu_check, training: the step at the paper's batch (16 x 8192) in fp32 and bf16, its gradients against the
official sequence, exact resume (2 + 2 steps == 4), and `torchrun --nproc_per_node 1` over NCCL.

fp32 training runs at torch's default settings (cuDNN convolutions in TF32), as `hifigan train` does; the gradient
comparison turns TF32 off so that both sides compute in full fp32.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from gpu_inference import config_for
from gpu_timing import timed_call

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.format import read_checkpoint, write_checkpoint
from hifigan.config import HifiganConfig, config_from_dict
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.training.graphed import WARMUP_STEPS

BATCH, SEGMENT, STEPS = 16, 8192, 20  # the paper's batch and segment; steps timed per precision
OPTIONAL_PARTS = {"discriminators": ["mpd", "msd", "mrd"], "loss_weights": {"stft": 2.5}}  # MRD + MR-STFT loss
VALID = 2  # held-out clips of the bundled corpus: 22 remain, one batch of 16 per epoch


def checks(settings) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "train/fp32": lambda: train_speed(settings, "fp32"),
        "train/bf16": lambda: train_speed(settings, "bf16"),
        "train/bf16-mrd-stft": lambda: train_speed(settings, "bf16", OPTIONAL_PARTS),
        "train/fp32-cuda-graph": lambda: train_speed(settings, "fp32", cuda_graph=True),
        "train/bf16-mrd-stft-cuda-graph": lambda: train_speed(settings, "bf16", OPTIONAL_PARTS, cuda_graph=True),
        "train/torchrun-1-process": lambda: torchrun_one_process(settings),
        "train/resume-deterministic": lambda: resume(settings, deterministic=True),
        "train/resume-default": lambda: resume(settings, deterministic=False),
        "train/cuda-graph-vs-eager": lambda: graph_against_eager(settings),
    }


def train_config(settings, extra: dict[str, Any] | None = None) -> HifiganConfig:
    """V1 at the paper's batch (tests/support/tiny.py's ResBlock1 config at batch 2 when quick); all steps adversarial.
    `extra`: more config keys (the optional parts; the quick segment grows to what they need)."""
    base = config_for("tiny1" if settings.quick else "v1")
    batch, segment = (2, base.segment_size) if settings.quick else (BATCH, SEGMENT)
    if extra and settings.quick:
        segment = 1040
    return config_from_dict({**base.to_dict(), "batch_size": batch, "segment_size": segment, "num_workers": 0,
                             "disc_start_step": 0, **(extra or {})})


def make_trainer(settings, precision: str, name: str, extra: dict[str, Any] | None = None,
                 cuda_graph: bool = False) -> Trainer:
    """A V1 trainer (train_config) on the bundled corpus; eager unless `cuda_graph` (gpu_official's `cuda-graph`
    lever times the graph against the eager step)."""
    config = train_config(settings, extra)
    train, valid = Corpus(folder=settings.corpus, valid_count=VALID).resolve(config.seed)
    options = TrainOptions(out=settings.work / name, device=str(settings.device), precision=precision,
                           checkpoint_interval=0, validation_interval=0, progress=False, resample=True,
                           cuda_graph=cuda_graph)
    return Trainer(config, scan_clips(train, config, resample=True, cli=False).clips,
                   scan_clips(valid, config, resample=True, cli=False).clips, options)


def batches(trainer: Trainer, count: int) -> list[tuple]:
    """`count` batches of different epochs (each epoch's windows and order), drawn before any timing."""
    out = []
    for epoch in range(count):
        trainer.train_set.set_epoch(epoch)
        trainer.sampler.set_epoch(epoch)
        out.append(next(iter(trainer.loader)))
    return out


def train_speed(settings, precision: str, extra: dict[str, Any] | None = None,
                cuda_graph: bool = False) -> dict[str, Any]:
    """STEPS steps (D then G) on pre-loaded batches: seconds per step, peak memory, every loss finite; `cuda_graph`:
    the step replayed from a CUDA graph (its memory pool included in the peak)."""
    if (precision == "bf16" or cuda_graph) and settings.device.type != "cuda":
        return {"skipped": "bf16 training and CUDA graphs are CUDA-only"}
    name = f"speed-{precision}" + ("-parts" if extra else "") + ("-graph" if cuda_graph else "")
    trainer = make_trainer(settings, precision, name, extra, cuda_graph)
    data = batches(trainer, 4)
    steps = 3 if settings.quick else STEPS
    times, results = [], []
    if settings.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(settings.device)
    for i in range(steps):
        seconds, result = timed_call(settings.device, trainer.train_step, data[i % len(data)])
        times.append(seconds)
        results.append(result)
    peak = (round(torch.cuda.max_memory_allocated(settings.device) / 2**30, 2)
            if settings.device.type == "cuda" else None)
    bad = [f"step {i}: {k}={v}" for i, r in enumerate(results) for k, v in r.terms.items() if not math.isfinite(v)]
    bad += [f"step {i}: update skipped" for i, r in enumerate(results) if not r.ok]
    steady = times[WARMUP_STEPS + 1:] if cuda_graph else times[2:] or times  # a graph: eager steps, the capture
    trainer.close()
    return {"precision": precision, "cuda_graph": cuda_graph, "config": extra or {}, "batch": trainer.config.batch_size,
            "segment": trainer.config.segment_size,
            "steps": steps, "first_step_s": times[0], "median_step_s": statistics.median(steady),
            "mean_step_s": statistics.fmean(steady), "peak_gib": peak,
            "mel_l1_first": results[0].terms.get("g/mel_l1"), "mel_l1_last": results[-1].terms.get("g/mel_l1"),
            "failures": bad[:20]}


def resume(settings, deterministic: bool) -> dict[str, Any]:
    """`hifigan train`: 4 steps straight vs 2 steps, --resume, 2 more; every tensor of both checkpoints compared.
    The cut checkpoint holds a CUDA RNG state for a GPU this process does not have (saved on a larger node)."""
    from hifigan.cli import main

    name = "resume-det" if deterministic else "resume-default"
    folder = settings.work / name
    folder.mkdir(parents=True, exist_ok=True)
    config = train_config(settings)
    config_path = folder / "config.json"
    config_path.write_text(json.dumps({**config.to_dict(), "num_workers": 2}))
    flags = ["--no-progress", "--checkpoint-interval", "0", "--validation-interval", "0", "--log-interval", "1"]
    flags += ["--deterministic"] if deterministic else []
    common = ["train", *flags, "--corpus", str(settings.corpus), "--config", str(config_path), "--resample",
              "--valid-count", str(VALID), "--device", str(settings.device)]
    cut = folder / "split" / "checkpoints" / "ckpt_00000002.pt"
    runs = [[*common, "--out", str(folder / "straight"), "--max-steps", "4"],
            [*common, "--out", str(folder / "split"), "--max-steps", "2"],
            ["train", *flags, "--resume", str(cut), "--max-steps", "4", "--device", str(settings.device)]]
    for args in runs:  # --deterministic holds for each run only (restored after it)
        if args is runs[2] and torch.cuda.is_available():
            # as if saved on a node with one more GPU: one CUDA RNG state more than this process sees (the resume
            # restores its own GPUs' states, the same as a straight run's; it once raised IndexError here)
            obj = read_checkpoint(cut)
            obj["rng"]["cuda"] = [*obj["rng"]["cuda"], obj["rng"]["cuda"][0].clone()]
            write_checkpoint(cut, obj)
        if main(args) != 0:
            raise RuntimeError(f"hifigan {' '.join(args)} failed (its error is printed above)")
    a = read_checkpoint(folder / "straight" / "checkpoints" / "ckpt_00000004.pt")
    b = read_checkpoint(folder / "split" / "checkpoints" / "ckpt_00000004.pt")
    diffs = {key: _max_diff(a[key], b[key]) for key in ("generator", "mpd", "msd", "optim_g", "optim_d")}
    worst = max(diffs.values())
    result = {"deterministic": deterministic, "max_abs_diff": diffs, "bit_exact": worst == 0.0,
              "settings": "torch.use_deterministic_algorithms(True), CUBLAS_WORKSPACE_CONFIG=:4096:8"
              if deterministic else "torch defaults (cuDNN picks its algorithms; TF32 convolutions)",
              "failures": [] if worst == 0.0 or not deterministic else [f"resume differs by {worst:.3g}"]}
    import shutil

    shutil.rmtree(folder, ignore_errors=True)  # V1 training checkpoints are ~1 GB each
    return result


def graph_against_eager(settings) -> dict[str, Any]:
    """`hifigan train --deterministic`, 6 steps (one per epoch: the learning rates decay every step), with the step
    replayed from a CUDA graph against eager steps, and with a graph again over 3 steps, --resume, 3 more: every
    tensor of the final checkpoints compared."""
    from hifigan.cli import main

    if settings.device.type != "cuda":
        return {"skipped": "CUDA graphs need CUDA"}
    folder = settings.work / "graph"
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.json"
    config_path.write_text(json.dumps({**train_config(settings).to_dict(), "num_workers": 2}))
    flags = ["--no-progress", "--checkpoint-interval", "0", "--validation-interval", "0", "--log-interval", "1",
             "--deterministic", "--device", str(settings.device)]
    common = ["train", *flags, "--corpus", str(settings.corpus), "--config", str(config_path), "--resample",
              "--valid-count", str(VALID)]
    runs = [[*common, "--no-cuda-graph", "--out", str(folder / "eager"), "--max-steps", "6"],
            [*common, "--cuda-graph", "--out", str(folder / "graph"), "--max-steps", "6"],
            [*common, "--cuda-graph", "--out", str(folder / "split"), "--max-steps", "3"],
            ["train", *flags, "--cuda-graph", "--resume", str(folder / "split"), "--max-steps", "6"]]
    for args in runs:
        if main(args) != 0:
            raise RuntimeError(f"hifigan {' '.join(args)} failed (its error is printed above)")
    eager, graph, split = (read_checkpoint(folder / run / "checkpoints" / "ckpt_00000006.pt")
                           for run in ("eager", "graph", "split"))
    keys = ("generator", "mpd", "msd", "optim_g", "optim_d")
    result: dict[str, Any] = {"steps": 6, "max_abs_diff": {k: _max_diff(eager[k], graph[k]) for k in keys},
                              "resumed_max_abs_diff": {k: _max_diff(eager[k], split[k]) for k in keys}}
    worst = max(max(result["max_abs_diff"].values()), max(result["resumed_max_abs_diff"].values()))
    result.update(bit_exact=worst == 0.0, failures=[] if worst < 1e-6 else [f"graph differs from eager by {worst:.3g}"])
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    return result


def _max_diff(a: Any, b: Any) -> float:
    """Largest |a - b| over matching tensors of two nested states (inf when their structure differs)."""
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.shape != b.shape:
            return math.inf
        return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return math.inf
        return max((_max_diff(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return math.inf
        return max((_max_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return 0.0 if a == b else math.inf


def torchrun_one_process(settings) -> dict[str, Any]:
    """`torchrun --nproc_per_node 1 -m hifigan train`: a process group of one (NCCL on CUDA, gloo on the CPU),
    the DDP-wrapped step, three steps and a checkpoint."""
    folder = settings.work / "torchrun"
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(train_config(settings).to_dict()))
    env = {**os.environ, "NCCL_DEBUG": "INFO", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1] / "src"),
                                                       os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
           "-m", "hifigan", "train", "--corpus", str(settings.corpus), "--config", str(config_path), "--resample",
           "--valid-count", str(VALID), "--out", str(folder / "run"), "--max-steps", "3", "--checkpoint-interval", "3",
           "--validation-interval", "0", "--log-interval", "1", "--no-progress", "--device", str(settings.device)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    result: dict[str, Any] = {"returncode": done.returncode, "stderr_tail": done.stderr[-3000:], "failures": []}
    if done.returncode != 0:
        result["failures"].append(f"torchrun exited {done.returncode}")
        return result
    saved = read_checkpoint(folder / "run" / "checkpoints" / "ckpt_00000003.pt")
    result.update(step=saved["step"], world_size=saved["world_size"],
                  nccl_seen="NCCL INFO" in done.stdout + done.stderr)
    if (saved["step"], saved["world_size"]) != (3, 1):
        result["failures"].append(f"checkpoint at step {saved['step']}, world size {saved['world_size']}")
    if settings.device.type == "cuda" and not result["nccl_seen"]:
        result["failures"].append("no NCCL log line: the process group did not use NCCL")
    return result

