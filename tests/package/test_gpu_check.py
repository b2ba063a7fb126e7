"""benchmarks/gpu_check.py on the CPU: the report's layout and figures on tiny configs, and failure capture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.support.files import REPO
from tests.support.marks import LARGE_MEMORY

SCRIPT = REPO / "benchmarks" / "gpu_check.py"


def run_check(out: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """The check on one intra-op thread, as `make test` runs it (tests/conftest.py): at two, on a 2-core machine under
    load, its OpenMP threads spun against the rest and the quick run outlived pytest's 600 s (seen at load ~12)."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return done, json.loads((out / "gpu_check.json").read_text())


@LARGE_MEMORY  # a training run and a torchrun tree beside the worker
def test_quick_cpu_run_reports_every_figure(tmp_path):
    done, report = run_check(tmp_path, "--device", "cpu", "--quick", "--only", "environment", "inference/tiny2",
                             "bench", "threads", "train/torchrun", "train/gradients", "train/step", "train/pipeline")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["schema"] == 1 and report["device"] == "cpu" and report["quick"] is True
    assert list(report["checks"]) == ["environment", "inference/tiny2", "bench/v1", "threads/graphs",
                                      "train/step-vs-official", "train/gradients-vs-official", "train/pipeline",
                                      "train/torchrun-1-process", "bench/lever-compile"]
    assert all(entry["ok"] and entry["seconds"] >= 0 for entry in report["checks"].values())
    assert report["checks"]["environment"]["result"]["torch"] == torch.__version__

    inference = report["checks"]["inference/tiny2"]["result"]
    rows = {(r["backend"], r["precision"]): r for r in inference["rows"]}
    assert set(rows) == {("eager", "fp32"), ("fused", "fp32"), ("eager", "bf16"), ("fused", "bf16")}
    assert rows["eager", "fp32"]["max_abs_err"] == 0.0  # the same computation as the CPU reference
    assert rows["fused", "fp32"]["max_abs_err"] < 1e-6 * max(1.0, inference["reference_peak"])
    assert 0 < rows["fused", "bf16"]["max_abs_err"] < 0.05  # bf16 keeps 8 bits of mantissa
    assert inference["official"]["max_abs_err"] < 1e-6  # the official-style generator computes the same function
    for row in rows.values():
        assert row["x_real_time"] > 0 and row["speedup_vs_official"] > 0 and row["repeats"] >= 2
    batch = inference["batch"]
    assert len(batch["lengths"]) == 16 and batch["max_abs_diff_vs_alone"] < 1e-6
    new = inference["new_lengths"]  # quick: one round of 4 lengths, buckets off then on
    assert [len(new[mode]["round_s"]) for mode in ("off", "on")] == [1, 1] and new["mels_per_round"] == 4
    assert new["buckets_speedup_last_round"] == new["off"]["round_s"][0] / new["on"]["round_s"][0]
    assert "| tiny2 | 4 new lengths one at a time (tiled-split) | default |" in done.stdout

    bench = report["checks"]["bench/v1"]["result"]  # `hifigan bench --device cpu`, quick: tiny2 on the CPU engines
    assert [r["backend"] for r in bench["backends"]] == ["eager", "fused"] and bench["best_fp16"] is None
    assert bench["config"].endswith("tiny2.json") and bench["backends"][1]["max_abs_diff"] < 1e-4
    assert not bench["target_met"]

    assert "CUDA" in report["checks"]["bench/lever-compile"]["result"]["skipped"]  # a GPU lever
    # threads/graphs (the graph backends from 8 threads, benchmarks/gpu_threads.py): on the CPU, says it is skipped
    assert report["checks"]["threads/graphs"]["result"] == {"skipped": "the graph backends run on CUDA only"}
    assert "| threads/graphs | yes | skipped: the graph backends run on CUDA only |" in done.stdout
    torchrun = report["checks"]["train/torchrun-1-process"]["result"]
    assert (torchrun["returncode"], torchrun["step"], torchrun["world_size"]) == (0, 3, 1)
    assert "| tiny2 | fused | fp32 |" in done.stdout and "| train/torchrun-1-process | yes |" in done.stdout

    gradients = report["checks"]["train/gradients-vs-official"]["result"]  # the CPU runs fp32 only
    assert list(gradients["modes"]) == ["fp32"] and gradients["modes"]["fp32"]["broken"] == 0
    assert 0 < gradients["modes"]["fp32"]["ours_max_rel"] < 1e-4 and gradients["tensors"] > 100
    step = report["checks"]["train/step-vs-official"]["result"]["modes"]["fp32"]
    assert step["ours"] > 0 and step["official"] > 0 and step["ratio"] == step["ours"] / step["official"]
    profile = step["profile"]  # the CPU's operator times: all of them, and the convolutions' (forward and backward)
    for side in (profile["ours"], profile["official"]):
        assert side["forward_convolutions_ms"] > 0 and side["backward_convolutions_ms"] > 0
        assert side["convolutions_ms"] == side["forward_convolutions_ms"] + side["backward_convolutions_ms"]
        assert side["convolutions_ms"] <= side["total_ms"]
    assert profile["ours_convolutions_to_official_step"] == profile["ours"]["convolutions_ms"] / 1000 / step["official"]
    assert "floors: kernels" in done.stdout
    assert "| train/gradients-vs-official | yes | fp32: 0 of" in done.stdout
    loop = report["checks"]["train/pipeline"]["result"]  # 2 copies of each bundled clip, 4 held out
    assert (loop["clips"], loop["steps"], loop["workers"]) == (2 * 24 - 4, 8, 2)
    assert loop["loop_step_at_default_intervals_s"] > loop["loop_step_s"] > 0 and loop["loader_batch_s"] > 0
    assert loop["ratio"] == loop["step_alone_s"] / loop["loop_step_at_default_intervals_s"]
    assert not (tmp_path / "work").exists(), "the scratch runs are removed"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_every_failure_is_recorded_and_the_next_check_runs(tmp_path):
    """Asked for CUDA where there is none: each check's exception is recorded (error and traceback) and the next one
    runs; threads/graphs, which catches each backend's error itself, records them as its failures, in the JSON and
    the table."""
    done, report = run_check(tmp_path, "--device", "cuda", "--quick", "--only", "environment", "inference/tiny1",
                             "threads", "train/fp32")
    assert done.returncode == 1
    assert list(report["checks"]) == ["environment", "inference/tiny1", "threads/graphs", "train/fp32",
                                      "train/fp32-cuda-graph"]
    threads = report["checks"].pop("threads/graphs")
    for entry in report["checks"].values():
        assert entry["ok"] is False and entry["error"] and "Traceback" in entry["traceback"]
    assert "CUDA" in report["checks"]["train/fp32"]["error"]
    assert "| inference/tiny1 |" not in done.stdout and "| tiny1 | - | - |" in done.stdout
    assert threads["ok"] is False and [row["backend"] for row in threads["result"]["rows"]] == ["cuda-graph"]
    assert [f.split(":")[0] for f in threads["result"]["failures"]] == ["cuda-graph"]
    assert all("CUDA is not available" in f for f in threads["result"]["failures"])
    assert "| threads/graphs | NO | 8 threads at once against alone: cuda-graph (tiny1) HifiganError" in done.stdout


def test_an_unknown_device_is_a_usage_error_and_writes_nothing(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "out"), "--device", "tpu"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--device tpu: use cuda or cpu" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
