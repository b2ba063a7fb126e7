"""One GAN training step (D then G), ours against the official sequence, timed alternately in one process.

Both sides start from the same weights and train on the same batches (random audio clips written to a scratch
folder, batch x segment from the config or the command line). Ours is `Trainer.train_step`; the official
sequence is tests/support/official_reference.py's `ref_train_step` on official-style modules with the official AdamWs.
Writes a JSON of per-step seconds and the median ratio; `--profile` adds torch.profiler's top operators of
one step of each.

    python benchmarks/train_step.py --config v3 --json benchmarks/results/train_step_v3.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.official_reference

from tests.support.official_reference import official_copies, ref_train_step  # noqa: E402

from hifigan import Trainer, TrainOptions  # noqa: E402
from hifigan.config import config_from_dict, load_config  # noqa: E402
from hifigan.data.clip_scan import scan_clips  # noqa: E402
from hifigan.mel import MelSpectrogram  # noqa: E402
from hifigan.runtime.machine import machine_info  # noqa: E402
from hifigan.training.options import PRECISIONS  # noqa: E402


def make_trainer(name: str, batch: int, segment: int, folder: Path, precision: str = "fp32") -> Trainer:
    """A trainer on `batch` + 1 random clips of 2 segments each, adversarial from the first step."""
    base = load_config(name)
    config = config_from_dict({**base.to_dict(), "batch_size": batch, "segment_size": segment, "num_workers": 0,
                               "disc_start_step": 0})
    rng = np.random.default_rng(0)
    paths = []
    for i in range(batch + 1):
        path = folder / f"clip{i}.wav"
        noise = (0.1 * rng.standard_normal(2 * segment)).clip(-0.99, 0.99)
        sf.write(path, noise.astype(np.float32), config.sampling_rate)
        paths.append(path)
    options = TrainOptions(out=folder / "run", checkpoint_interval=0, validation_interval=0, progress=False,
                           precision=precision)
    return Trainer(config, scan_clips(paths[:-1], config, cli=False).clips,
                   scan_clips(paths[-1:], config, cli=False).clips, options)


def run(name: str, batch: int, segment: int, pairs: int, profile: bool, precision: str = "fp32") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(name, batch, segment, Path(tmp), precision)
        ref = official_copies(trainer.config, trainer.generator, trainer.mpd, trainer.msd)
        data = next(iter(trainer.loader))
        mel, audio, mel_target, _ = data
        loss_mel = MelSpectrogram(**trainer.config.mel_kwargs(for_loss=True))

        def ours() -> None:
            trainer.train_step(data)

        def official() -> None:
            ref_train_step(*ref, mel, audio.unsqueeze(1), mel_target, loss_mel)

        ours(), official()  # warm-up: allocator, oneDNN primitives, optimizer states
        times: dict[str, list[float]] = {"ours": [], "official": []}
        for i in range(pairs):
            order = (("ours", ours), ("official", official)) if i % 2 == 0 else (("official", official), ("ours", ours))
            for label, fn in order:
                start = time.perf_counter()
                fn()
                times[label].append(time.perf_counter() - start)
        result: dict[str, Any] = {
            "config": name, "batch": batch, "segment": segment, "pairs": pairs, "precision": precision,
            "seconds": times,
            "ours_median_s": statistics.median(times["ours"]),
            "official_median_s": statistics.median(times["official"]),
        }
        result["ratio"] = result["ours_median_s"] / result["official_median_s"]
        if profile:
            result["profile"] = {label: _profile(fn) for label, fn in (("ours", ours), ("official", official))}
        trainer.close()
        return result


def _profile(fn) -> str:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--config", nargs="+", default=["v3", "v1"])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--segment", type=int, default=8192)
    parser.add_argument("--pairs", type=int, default=3, help="timed (ours, official) pairs, order alternating")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="our step's precision (bf16: a GPU or a CPU with AVX512-BF16/AMX); the official runs fp32")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report = {"machine": {**machine_info(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
              "runs": []}
    for name in args.config:
        result = run(name, args.batch, args.segment, args.pairs, args.profile, args.precision)
        report["runs"].append(result)
        print(f"{name} ({args.precision}): ours {result['ours_median_s']:.2f} s, "
              f"official {result['official_median_s']:.2f} s, ratio {result['ratio']:.3f}", flush=True)
        if args.profile:
            for label, table in result["profile"].items():
                print(f"--- {name} {label}\n{table}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
