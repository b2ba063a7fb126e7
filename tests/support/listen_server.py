"""`hifigan listen` as a real server process for tests (127.0.0.1 only), stimuli to rate, a study created from them,
and an HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hifigan.cli import main
from hifigan.evaluation.listening.store import Store
from hifigan.evaluation.listening.study import study_for
from tests.support.files import REPO

SRC = REPO / "src"


def run_busy(args: list[str]) -> int:
    """`hifigan ARGS` with --port in use, so that it can never start serving (it fails there, if not before)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        return main([*args, "--host", "127.0.0.1", "--port", str(busy.getsockname()[1])])


def write_stimuli(root: Path, clips: int, systems: list[str], seconds: float = 0.25, rate: int = 8000) -> None:
    """root/reference/ and root/<system>/ with `clips` short tones each (clip00.wav ...), distinct per system."""
    for k, name in enumerate(["reference", *systems]):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(clips):
            t = np.arange(int(seconds * rate)) / rate
            x = 0.3 * np.sin(2 * np.pi * (200 + 20 * i) * t) * (1 + 0.1 * k)
            sf.write(folder / f"clip{i:02d}.wav", (x * 32767).astype(np.int16), rate, subtype="PCM_16")


def create_study(tmp_path: Path, systems: list[str]) -> Store:
    """Create (not serve) the study of tmp_path/stim's reference and `systems` in tmp_path/study, as `hifigan listen`
    does before it serves."""
    stim = tmp_path / "stim"
    return study_for(tmp_path / "study", stim / "reference", {s: stim / s for s in systems}, seed=0)


@dataclass
class Server:
    proc: subprocess.Popen
    url: str  # the raters' start page, ending in /
    results: str  # the results page with its key
    port: int
    stimuli: str  # the rates it says the stimuli have

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def start_server(*argv: str | os.PathLike, port: int = 0, timeout: float = 120.0) -> Server:
    """Start `python -m hifigan listen ARGV --port PORT` and wait for the URLs it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    errors = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "-m", "hifigan", "listen", *map(str, argv), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    lines: dict[str, str] = {}
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition(": ")
            lines[key] = value
            if "results" in lines:
                break
    finally:
        watchdog.cancel()
    if "results" not in lines:
        proc.kill()
        errors.seek(0)
        raise RuntimeError(f"hifigan listen did not start: {errors.read().strip()}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
    url = lines["raters"]
    return Server(proc, url, lines["results"], int(url.rstrip("/").rsplit(":", 1)[1]), lines.get("stimuli", ""))


def call(url: str, body: dict | None = None, *, retry_for: float = 0.0) -> tuple[int, dict]:
    """GET (or POST a JSON body) and decode the JSON answer; retries while the server does not answer or
    answers 5xx, for up to `retry_for` seconds (as the rating page does)."""
    deadline = time.monotonic() + retry_for
    wait = 0.05
    while True:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return e.code, json.loads(e.read())
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError):
            pass  # no answer, or half of one: the server died; retry
        if time.monotonic() > deadline:
            raise ConnectionError(f"no answer from {url}")
        time.sleep(wait)
        wait = min(2 * wait, 0.5)


def start_rater(server_url: str, name: str, *, retry_for: float = 0.0) -> str:
    """POST the start form; the rater's key from the page it redirects to."""
    deadline = time.monotonic() + retry_for
    while True:
        data = urllib.parse.urlencode({"name": name}).encode()
        try:
            with urllib.request.urlopen(server_url + "start", data=data, timeout=30) as response:
                return response.geturl().rstrip("/").rsplit("/", 1)[1]
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
