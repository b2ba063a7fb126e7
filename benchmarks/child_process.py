"""Run a benchmark's measurement in a fresh Python process (its peak memory and set-up its own): `script --child
ARGS`, with the repository's src/ and root on the path, its last stdout line read as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hifigan.config import HifiganConfig


def run_child(script: str, *args: str) -> dict:
    repo = Path(__file__).resolve().parents[1]
    path = [str(repo / "src"), str(repo), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run([sys.executable, script, "--child", *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{Path(script).name} child {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def proc_status_kib(*keys: str) -> dict[str, int]:
    """This process's /proc/self/status figures named `keys` (VmRSS, VmHWM, ...), in KiB as the kernel gives them."""
    with open("/proc/self/status") as f:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in keys}


def benchmark_config(model: str) -> HifiganConfig:
    """The config a benchmark's child runs: `tiny` (tests/support's test model) or a preset / config file."""
    if model == "tiny":
        from tests.support.tiny import tiny_config

        return tiny_config()
    from hifigan.config import load_config

    return load_config(model)
