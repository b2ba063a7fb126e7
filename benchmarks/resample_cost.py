"""What `--resample` costs a training step: a training item (VocoderDataset, as a DataLoader worker makes it, at 1
thread) read from a clip at the model's rate and from the same clip stored at twice it, resampled at every read; and
the step it feeds (batch 16 x 8192, 1 thread). CPU seconds (user + sys) of this process, best of 3 passes.

    python benchmarks/resample_cost.py --model v1 --seconds 1 10
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks.child_process, tests.support

from benchmarks.child_process import benchmark_config  # noqa: E402

from hifigan import Trainer, TrainOptions  # noqa: E402
from hifigan.config import config_from_dict  # noqa: E402
from hifigan.data.carried import collate  # noqa: E402
from hifigan.data.clip_scan import scan_clips  # noqa: E402
from hifigan.data.dataset import VocoderDataset  # noqa: E402
from hifigan.runtime.machine import machine_info  # noqa: E402

RATE, BATCH, SEGMENT = 22050, 16, 8192


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def clips(folder: Path, seconds: float, rate: int) -> list[Path]:
    """BATCH clips of `seconds` cut from the bundled LJSpeech clips laid end to end, stored at `rate`."""
    bundled = sorted((ROOT / "data/ljspeech-mini").glob("*.wav"))
    speech = np.concatenate([sf.read(p, dtype="float32")[0] for p in bundled])
    n = round(seconds * RATE)
    paths = []
    for i in range(BATCH):
        cut = speech[i * n % (len(speech) - n):][:n]
        path = folder / f"{rate}_{seconds:g}_{i}.wav"
        sf.write(path, cut if rate == RATE else soxr.resample(cut, RATE, rate), rate, subtype="PCM_16")
        paths.append(path)
    return paths


def item_ms(config, paths: list[Path], resample: bool) -> float:
    data = VocoderDataset(scan_clips(paths, config, resample=resample, cli=False).clips, config, train=True,
                          resample=resample, cli=False)
    data[0]
    passes = []
    for _ in range(3):
        started = cpu_seconds()
        for i in range(len(data)):
            data[i]
        passes.append((cpu_seconds() - started) / len(data))
    return 1000 * min(passes)


def step_ms(config, paths: list[Path], out: Path) -> float:
    train, valid = (scan_clips(p, config, cli=False).clips for p in (paths, paths[:1]))
    trainer = Trainer(config, train, valid, TrainOptions(out=out, checkpoint_interval=0, validation_interval=0,
                                                         progress=False))
    batch = collate([trainer.data.train_set[i] for i in range(BATCH)])
    trainer.train_step(batch)
    started = cpu_seconds()
    trainer.train_step(batch)
    return 1000 * (cpu_seconds() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="v1", help="tiny (the tests' model) or a preset / config file")
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.0, 10.0], help="clip lengths")
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = benchmark_config(args.model).to_dict()
    config = config_from_dict({**base, "sampling_rate": RATE, "batch_size": BATCH, "segment_size": SEGMENT,
                               "num_workers": 0, "disc_start_step": 0})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.seconds:
            native, doubled = item_ms(config, clips(Path(tmp), seconds, RATE), False), \
                item_ms(config, clips(Path(tmp), seconds, 2 * RATE), True)
            rows.append({"seconds": seconds, "item_ms": native, "item_resampled_ms": doubled,
                         "batch_extra_ms": BATCH * (doubled - native)})
        step = step_ms(config, clips(Path(tmp), 1.0, RATE), Path(tmp) / "run")
    for row in rows:
        row["share_of_step"] = row["batch_extra_ms"] / step
        print(f"{args.model}, {row['seconds']:g} s clips: item {row['item_ms']:.2f} ms, resampled from {2 * RATE} Hz "
              f"{row['item_resampled_ms']:.2f} ms; a batch of {BATCH} {row['batch_extra_ms']:.0f} ms more, "
              f"{100 * row['share_of_step']:.2g} % of the step's {step:.0f} ms (CPU, 1 thread)")
    print(json.dumps({"machine": machine_info(), "model": args.model, "step_ms": step, "rows": rows}))


if __name__ == "__main__":
    main()
