"""The memory a run's validation adds, with its passes bucketed (`hifigan.training.validation.VALIDATION_BUCKETS`, the
default) and run as they come (as before 2026-12-08): each choice in a fresh process runs `Validation.run` a few times
over the same held-out clips, `--clips` of lengths evenly spread over `--seconds` (one length each; written once into
a temporary folder), random weights of a config, backend auto, `--threads` torch threads (1 by default: on a busy
machine OpenMP's waiting threads spin, which counts as CPU time). Prints per pass VmRSS and VmHWM (MiB, from
/proc/self/status), the CPU seconds of the pass (user + sys of the process) and val/mel_l1.

usage: python benchmarks/validation_memory.py [--model v1] [--clips 30] [--seconds 1 10] [--passes 2] [--threads 1]
Run from the repository root (tiny: tests/support's test model). `ONEDNN_VERBOSE=profile_create` in the environment
logs each convolution set-up (`create:cache_miss`) that oneDNN makes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import child_process

CHOICES = ("off", "on")  # passes run as they come (before 2026-12-08), and bucketed (since)


def status_mb() -> dict[str, int]:
    return {k: kib // 1024 for k, kib in child_process.proc_status_kib("VmRSS", "VmHWM").items()}


def child(model: str, choice: str, clips: int, seconds: tuple[float, float], passes: int, threads: int) -> dict:
    """One process's passes: memory before and after each, its CPU time and value."""
    import numpy as np
    import soundfile as sf
    import torch

    torch.set_num_threads(threads)
    from hifigan.audio import find_audio
    from hifigan.data.clip_scan import scan_clips
    from hifigan.data.dataset import VocoderDataset
    from hifigan.models import Generator
    from hifigan.training import validation

    cfg = child_process.benchmark_config(model)
    if choice == "off":
        validation.VALIDATION_BUCKETS = False  # Vocoder(shape_buckets=False): every pass as it comes
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, s in enumerate(np.linspace(*seconds, clips)):
            n = int(s * cfg.sampling_rate) + int(rng.integers(0, cfg.hop_size))
            x = 0.4 * np.sin(2 * np.pi * (150 + 7 * i) * np.arange(n) / cfg.sampling_rate) + 0.05 * rng.normal(size=n)
            sf.write(Path(folder) / f"c{i:03d}.wav", (x * 20000).astype(np.int16), cfg.sampling_rate)
        held = VocoderDataset(scan_clips(find_audio(folder), cfg, cli=True).clips, cfg, train=False, cli=True)
        torch.manual_seed(0)
        generator = Generator(cfg)
        check = validation.Validation(held, cfg, torch.device("cpu"), media_clips=0)
        rows = [{"pass": None, **status_mb()}]
        for k in range(passes):
            began = time.process_time()
            value = check.run(generator, k, 0, None)
            rows.append({"pass": k, "cpu_s": time.process_time() - began, "mel_l1": value, **status_mb()})
    return {"choice": choice, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="v1")
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--seconds", type=float, nargs=2, default=(1.0, 10.0))
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", nargs=1, choices=CHOICES)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.model, args.child[0], args.clips, tuple(args.seconds), args.passes,
                               args.threads)))
        return
    for choice in CHOICES:
        out = child_process.run_child(__file__, choice, "--model", args.model, "--clips", str(args.clips),
                                      "--seconds", *map(str, args.seconds), "--passes", str(args.passes),
                                      "--threads", str(args.threads))
        start, *passes = out["rows"]
        print(f"buckets {choice}: start RSS {start['VmRSS']} MiB", file=sys.stderr)
        for row in passes:
            print(f"  pass {row['pass']}: RSS {row['VmRSS']} MiB (+{row['VmRSS'] - start['VmRSS']}), peak "
                  f"{row['VmHWM']} MiB, {row['cpu_s']:.1f} CPU s, val/mel_l1 {row['mel_l1']!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
