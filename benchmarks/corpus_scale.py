"""How training's start-up grows with the corpus: synthetic corpora of short files (1k, 10k, 100k; in a temporary
folder, removed after) and, for each, in fresh processes: the up-front scan alone (files/s, no cache), the time from
`train()` to the end of the first step on first use and on a resume (the scan cache then knows every file), a
validation pass at the default held-out size against `hifigan vocode` on the same audio (interleaved, best of 2),
and peak RSS. Writes benchmarks/results/corpus_scale.json and corpus_scale.md (log-log slopes between sizes).

usage: python benchmarks/corpus_scale.py [--sizes 1000 10000 100000] [--seconds 0.5]
Times on a shared machine are noisy: compare within one run. Run from the repository root (it uses tests/support).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import child_process
import numpy as np
import soundfile as sf

if TYPE_CHECKING:
    from hifigan.config import HifiganConfig

RESULTS = Path(__file__).resolve().parent / "results"
RATE = 22050
MODEL = "V3 generator, narrow discriminators (tests/support/tiny.py), batch 2, on the CPU"


def bench_config() -> HifiganConfig:
    """V3 (22.05 kHz, hop 256) with narrow discriminators: the step stays cheap, so start-up is what is measured."""
    from tests.support.tiny import narrow_discriminators

    from hifigan.config import config_from_dict, load_config

    return config_from_dict(narrow_discriminators({**load_config("v3").to_dict(), "batch_size": 2}))


def write_corpus(folder: Path, count: int, seconds: float) -> None:
    """`count` int16 WAVs of a tone plus noise, 100 per speaker folder (as corpora are laid out)."""
    rng = np.random.default_rng(0)
    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    for i in range(count):
        sub = folder / f"spk{i // 100:04d}"
        if i % 100 == 0:
            sub.mkdir(parents=True)
        x = 0.3 * np.sin(2 * np.pi * (100 + i % 300) * t) + 0.02 * rng.standard_normal(n)
        sf.write(sub / f"utt{i:06d}.wav", (x * 32767).astype(np.int16), RATE, subtype="PCM_16")


def peak_rss_mb() -> dict[str, float]:
    return {"self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def child_scan(corpus: Path) -> dict:
    from hifigan.audio import find_audio
    from hifigan.data.scan_cache import gather_facts
    from hifigan.data.scan_row import ReadSettings
    from hifigan.runtime.cpus import usable_cpus

    began = time.perf_counter()
    files = find_audio(corpus, recursive=True)
    listed = time.perf_counter()
    facts = gather_facts(files, ReadSettings(RATE), progress=False)
    done = time.perf_counter()
    return {"files": len(files), "list_s": listed - began, "scan_s": done - listed,
            "files_per_s": facts.read / (done - listed), "workers": usable_cpus(), "rss_mb": peak_rss_mb()}


def child_train(corpus: Path, run: Path, resume: bool) -> dict:
    from hifigan.data.corpus import Corpus
    from hifigan.training.job import train
    from hifigan.training.options import TrainJob, TrainOptions

    marks: dict = {}

    def first_step(trainer, batch, result) -> None:
        if "first_step_s" in marks:
            return
        marks["first_step_s"] = time.perf_counter() - began
        marks["held_out"] = len(trainer.valid_set)
        if resume:
            marks.update(validation_vs_vocode(trainer))

    options = TrainOptions(out=None if resume else run, progress=False, validation_interval=0,
                           checkpoint_interval=0)
    job = (TrainJob(options, resume=run, max_steps=2, on_step=first_step) if resume else
           TrainJob(options, Corpus(folder=corpus), max_steps=1, on_step=first_step, config=bench_config()))
    began = time.perf_counter()
    result = train(job)
    return {**marks, "files_read": result.files_read, "rss_mb": peak_rss_mb()}


def validation_vs_vocode(trainer) -> dict:
    """A validation pass over the held-out clips and `hifigan vocode` (in process, the same checkpoint's generator,
    the same files), interleaved twice; the best of each."""
    from hifigan.checkpoints.run_files import checkpoint_files
    from hifigan.cli import main

    files = [str(c.path) for c in trainer.valid_set.clips]
    checkpoint = checkpoint_files(trainer.ckpt_dir)[-1]
    out = Path(tempfile.mkdtemp(prefix="vocode-"))
    times: dict[str, list[float]] = {"validation_s": [], "vocode_s": []}
    try:
        for _ in range(2):
            began = time.perf_counter()
            trainer.validation.run(trainer.generator, trainer.step, trainer.epoch, None)
            times["validation_s"].append(time.perf_counter() - began)
            began = time.perf_counter()
            assert main(["vocode", "--checkpoint", str(checkpoint), "-o", str(out), *files]) == 0
            times["vocode_s"].append(time.perf_counter() - began)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    best = {k: min(v) for k, v in times.items()}
    audio_s = sum(c.num_samples for c in trainer.valid_set.clips) / trainer.config.sampling_rate
    return {**best, "validation_over_vocode": best["validation_s"] / best["vocode_s"], "held_out_audio_s": audio_s}


def run_child(*args: str) -> dict:
    return child_process.run_child(__file__, *args)


def measure(size: int, seconds: float) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"corpus-scale-{size}-"))
    try:
        began = time.perf_counter()
        write_corpus(root / "corpus", size, seconds)
        print(f"{size} files written in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        row = {"files": size, "seconds_per_file": seconds}
        row["scan"] = run_child("scan", str(root / "corpus"))
        row["first"] = run_child("first", str(root / "corpus"), str(root / "run"))
        row["resume"] = run_child("resume", str(root / "corpus"), str(root / "run"))
        print(json.dumps(row), file=sys.stderr)
        return row
    finally:
        shutil.rmtree(root, ignore_errors=True)


def slope(rows: list[dict], value) -> list[str]:
    """Log-log slope between consecutive sizes: 1 is linear in files, 0 constant."""
    out = ["-"]
    for a, b in itertools.pairwise(rows):
        out.append(f"{math.log(value(b) / value(a)) / math.log(b['files'] / a['files']):.2f}")
    return out


def table(rows: list[dict]) -> str:
    columns = [
        ("scan files/s", lambda r: r["scan"]["files_per_s"], "{:.0f}"),
        ("scan s", lambda r: r["scan"]["scan_s"], "{:.2f}"),
        ("first step, first use s", lambda r: r["first"]["first_step_s"], "{:.2f}"),
        ("first step, resume s", lambda r: r["resume"]["first_step_s"], "{:.2f}"),
        ("held out", lambda r: r["resume"]["held_out"], "{}"),
        ("validation pass s", lambda r: r["resume"]["validation_s"], "{:.2f}"),
        ("vocode same audio s", lambda r: r["resume"]["vocode_s"], "{:.2f}"),
        ("validation / vocode", lambda r: r["resume"]["validation_over_vocode"], "{:.2f}"),
        ("peak RSS first use MB", lambda r: r["first"]["rss_mb"]["self"], "{:.0f}"),
        ("peak RSS resume MB", lambda r: r["resume"]["rss_mb"]["self"], "{:.0f}"),
    ]
    lines = ["| quantity | " + " | ".join(f"{r['files']:,} files" for r in rows) + " | log-log slope |",
             "|---|" + "---:|" * len(rows) + "---|"]
    for name, value, fmt in columns:
        slopes = slope(rows, value)[1:]
        lines.append(f"| {name} | " + " | ".join(fmt.format(value(r)) for r in rows) + f" | {', '.join(slopes)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seconds", type=float, default=0.5, help="length of each synthetic file")
    parser.add_argument("--note", default="compare within the run", help="where and how it was measured")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *paths = args.child
        result = (child_scan(Path(paths[0])) if mode == "scan" else
                  child_train(Path(paths[0]), Path(paths[1]), resume=mode == "resume"))
        print(json.dumps(result))
        return
    rows = [measure(size, args.seconds) for size in args.sizes]
    RESULTS.mkdir(exist_ok=True)
    from hifigan.runtime.machine import machine_info, machine_text

    meta = {"machine": machine_text(machine_info()), "model": MODEL, "sizes": args.sizes,
            "note": args.note}
    (RESULTS / "corpus_scale.json").write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    (RESULTS / "corpus_scale.md").write_text(
        f"# Corpus scale ({meta['machine']}, {MODEL}, {args.seconds} s files; {meta['note']})\n\n"
        "Times from `train()` to the end of the first step (imports excluded). The slope between two sizes is\n"
        "log(t2/t1) / log(n2/n1): 1 grows linearly with the files, 0 stays constant.\n\n" + table(rows) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
