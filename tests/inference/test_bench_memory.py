"""`hifigan bench`'s fresh-process memory runs give figures or stop the command with their error (never a silent
None), and its --backends entries: eager:fp32 is the baseline, an emulated half precision is said once."""

from __future__ import annotations

import json

import pytest

from hifigan.errors import HifiganError
from hifigan.runtime.machine import cpu_computes
from tests.support.cli_runs import run_module
from tests.support.threads import threads
from tests.support.tiny import tiny_config


@pytest.fixture
def tiny_path(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_config("2").to_dict()))
    return path


def test_stream_memory_measures_what_auto_chose(tiny_path):
    """--stream-memory-minutes: both fresh processes run the backend `auto` resolved to and report figures."""
    from hifigan.inference.bench import run_bench

    with threads(1):
        result = run_bench(str(tiny_path), seconds=0.064, repeats=1, backends=("eager",), threads=1, memory=False,
                           stream_memory_minutes=0.005)
    sm = result["stream_memory"]
    assert "error" not in sm and "error" not in sm["one_shot_60s"], sm
    assert sm["peak_rss_mb"] > 0 and sm["seconds"] >= 0 and sm["one_shot_60s"]["peak_rss_mb"] > 0
    assert sm["backend"] == result["auto"]


def test_a_failing_memory_run_raises_its_error(tmp_path):
    """A child that fails (here: its config file is missing) raises one line with the child's own error."""
    from hifigan.inference.bench import run_in_fresh_process

    missing = tmp_path / "gone.json"
    with pytest.raises(HifiganError, match=r"memory run of eager \(one-shot.*failed: .*gone\.json: ") as caught:
        run_in_fresh_process(str(missing), 0.064, "eager", 1)
    assert "\n" not in str(caught.value)


def test_bench_takes_eager_fp32_as_the_baseline_and_warns_once(tiny_path, tmp_path):
    """`eager:fp32` is eager, the baseline; an emulated bf16 is said in one line, not once per check. A child
    process: pytest records its own process's warnings, so stderr would not show them there."""
    out = tmp_path / "b.json"
    proc = run_module("bench", "--config", tiny_path, "--seconds", "0.064", "--repeats", "1", "--threads", "1",
                      "--backends", "eager:fp32,fused:bf16", "--no-memory", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert [r["backend"] for r in json.loads(out.read_text())["backends"]] == ["eager", "fused:bf16"]
    warned = [line for line in proc.stderr.splitlines() if "warning: --precision bf16" in line]
    assert len(warned) == (0 if cpu_computes("bf16") else 1), proc.stderr
