"""Cost of `hifigan evaluate`'s metrics: process CPU seconds and wall seconds per second of audio, per group.

Scores the bundled clips (data/ljspeech-mini) against a copy with -30 dB noise added, at the V1 settings, in one
process with torch's default threads (as `hifigan evaluate` runs): after one untimed warm-up pass, the full set and
each group alone (one pYIN pass serves the three pitch metrics), repeated and interleaved; the median of each is
reported with its share of the full set's CPU time.

    python benchmarks/evaluate_cost.py --json benchmarks/results/evaluate_cost.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from hifigan.audio import find_audio, load_audio
from hifigan.config import load_config
from hifigan.evaluation.metrics import compute_metrics
from hifigan.runtime.machine import machine_info

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {
    "all": None,
    "pitch (pYIN)": ["f0_rmse_cents", "vuv_f1", "periodicity_rmse"],
    "mrstft": ["mrstft"],
    "pesq": ["pesq"],
    "stoi + estoi": ["stoi", "estoi"],
    "mel_l1 + mcd + lsd + snr": ["mel_l1", "mcd", "lsd", "snr"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--clips", type=int, default=8, help="how many of the bundled clips")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, as hifigan evaluate)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = load_config("v1")
    rng = np.random.default_rng(0)
    pairs = []
    for path in find_audio(ROOT / "data" / "ljspeech-mini")[: args.clips]:
        x = load_audio(path, config.sampling_rate)
        pairs.append((x, (x + rng.normal(0, 10 ** (-30 / 20) * x.std(), x.shape)).astype(np.float32)))
    audio_s = sum(len(x) for x, _ in pairs) / config.sampling_rate
    compute_metrics(*pairs[0], config)  # warm-up: librosa's pYIN is compiled by numba on its first call
    cpu: dict[str, list[float]] = {name: [] for name in GROUPS}
    wall: dict[str, list[float]] = {name: [] for name in GROUPS}
    for _ in range(args.repeats):
        for name, metrics in GROUPS.items():
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            for reference, generated in pairs:
                compute_metrics(reference, generated, config, metrics)
            cpu[name].append((time.process_time() - start_cpu) / audio_s)
            wall[name].append((time.perf_counter() - start_wall) / audio_s)
    full = statistics.median(cpu["all"])
    rows = {name: {"cpu_s_per_audio_s": statistics.median(cpu[name]), "wall_s_per_audio_s": statistics.median(
        wall[name]), "share_of_all_cpu": statistics.median(cpu[name]) / full} for name in GROUPS}
    print(f"torch threads {torch.get_num_threads()}, {len(pairs)} clips, {audio_s:.1f} s of audio")
    for name, row in rows.items():
        print(f"{name:<26} {row['cpu_s_per_audio_s']:.3f} CPU s, {row['wall_s_per_audio_s']:.3f} wall s per audio s"
              f"  ({row['share_of_all_cpu']:.0%} of all CPU)")
    if args.json:
        result = {"audio_seconds": audio_s, "clips": len(pairs), "repeats": args.repeats, "groups": rows,
                  "threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "machine": machine_info(),
                  "command": "python benchmarks/evaluate_cost.py " + " ".join(
                      f"--{k} {v}" for k, v in vars(args).items() if k != "json" and v is not None)}
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
