"""Run a benchmark's measurement in a fresh Python process (its peak memory and set-up its own): `script --child
ARGS`, with the repository's src/ and root on the path, its last stdout line read as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run_child(script: str, *args: str) -> dict:
    repo = Path(__file__).resolve().parents[1]
    path = [str(repo / "src"), str(repo), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run([sys.executable, script, "--child", *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{Path(script).name} child {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
