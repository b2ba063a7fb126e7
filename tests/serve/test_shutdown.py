"""`hifigan serve` as a process: SIGTERM (or Ctrl+C) refuses new work with 503, lets the requests and streams in
flight finish with their whole audio, and exits 0; a second Ctrl+C exits at once."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient
from hifigan.serve.identity import weights_sha256
from hifigan.serve.limits import ServeOptions
from tests.support.files import REPO
from tests.support.serve import answer, random_mels, running_server, split, stalled_request
from tests.support.serve_log import fields, line_fields
from tests.support.tiny import tiny_config

# `hifigan serve` as its script runs it, saying at its exit (once main returned) how many objects it froze out of the
# interpreter's last collections (hifigan.cli.serving.run_serve).
AT_EXIT = ("import atexit, gc, sys; from hifigan.__main__ import run; atexit.register(lambda: print("
           "f'frozen at exit: {gc.get_freeze_count()}', file=sys.stderr)); sys.exit(run())")


def _start(checkpoint, *options: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-c", AT_EXIT, "serve", "-c", str(checkpoint), "--port", "0",
                             "--threads", "1", *options], stderr=subprocess.PIPE, text=True, env=env)
    return proc


def _url(proc: subprocess.Popen) -> str:
    line = proc.stderr.readline()  # the first line says where it listens, as the model begins to load
    listening = line_fields(line.rstrip())
    assert listening["event"] == "listening" and listening["msg"].startswith(f"listening on {listening['url']} ("), line
    ready = proc.stderr.readline()  # the second, that it is loaded
    assert line_fields(ready.rstrip())["event"] == "ready", ready
    return listening["url"]


def _tiny() -> Vocoder:
    cfg = tiny_config()
    torch.manual_seed(0)
    return Vocoder(Generator(cfg), cfg)


def _depth(page: str) -> float:
    return float(re.search(r"^hifigan_queue_depth (\S+)$", page, re.M).group(1))


@pytest.fixture(scope="module")
def servers(tiny_checkpoint):
    """Two servers starting at once (each start imports torch): one for SIGTERM, one for SIGINT."""
    procs = [_start(tiny_checkpoint, "--max-batch-delay-ms", "1000", "--max-batch", "64"), _start(tiny_checkpoint)]
    yield [(proc, _url(proc)) for proc in procs]
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_sigterm_finishes_the_work_in_flight_and_exits_0(servers, tiny_checkpoint):
    proc, url = servers[0]
    info = httpx.get(f"{url}/v1/info").json()  # which model answers: the checkpoint's weights, as loaded
    assert (info["step"], info["weights_sha256"]) == (None, weights_sha256(load_generator(tiny_checkpoint)[0]))
    rng = np.random.default_rng(0)
    mels = random_mels(rng, 16, [120, 7, 300, 45, 80, 200])
    streamed = random_mels(rng, 16, [90, 60, 30])

    async def go():
        async with AsyncClient(url) as client:
            async def slow(mel, first_after_s: float = 0.0):
                await asyncio.sleep(first_after_s)
                for piece in split(mel, [10] * 20):
                    yield piece
                    await asyncio.sleep(0.05)

            work = [asyncio.create_task(client.vocode(m, "f32")) for m in mels]
            # The third stream is served but sends nothing for 1.5 s, so each pass waits its 1 s for company.
            work += [asyncio.create_task(client.stream(slow(m, 1.5 * (i == 2)), "f32"))
                     for i, m in enumerate(streamed)]
            deadline = time.monotonic() + 30
            while True:  # every request queued for the 1 s batch, the streams open
                page = (await client.http.get("/metrics")).text
                if "hifigan_active_streams 3.0" in page and _depth(page) >= 6:
                    break
                assert time.monotonic() < deadline, page
                await asyncio.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.05)
            refused = await client.http.post("/v1/vocode", content=b"")
            health = await client.http.get("/healthz")
            return await asyncio.gather(*work), refused, health

    results, refused, health = asyncio.run(go())
    assert refused.status_code == 503 and refused.json() == {"error": "the server is shutting down"}
    assert health.status_code == 503 and health.json() == {"status": "draining"}  # as /openapi.json says
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)
    for mel, audio in zip(mels + streamed, results[: len(mels)] + [r.audio for r in results[len(mels):]]):
        assert audio.shape == (mel.shape[1] * 16,) and np.abs(audio - vocoder(mel).numpy()).max() < 1e-5
    assert proc.wait(timeout=20) == 0
    log = proc.stderr.read()
    *lines, frozen = log.rstrip().splitlines()
    said = [line_fields(line) for line in lines]  # every line the server wrote, by one rule
    assert {"event": "draining", "signal": "SIGTERM", "in_flight": "9",
            "msg": "finishing the requests and streams in flight, refusing new work"} in said, log
    # Its objects were left out of the exit's collections (~0.5 s of CPU that an idle server's exit spent on them)
    assert said[-1] == {"event": "stopped"} and int(frozen.removeprefix("frozen at exit: ")) > 10000, log
    routes = [(f.get("route"), f.get("status")) for f in said]
    assert routes.count(("POST /v1/vocode", "200")) == 6 and routes.count(("WS /v1/stream", "1000")) == 3
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz")


def test_sigterm_while_the_model_loads_exits_0():
    """A signal while the loader's thread is inside torch: the server stops listening, waits for the load to end
    (it cannot be interrupted) and exits 0; the interpreter exiting under the load aborted (SIGABRT, -6,
    "terminate called without an active exception"). The signal comes as soon as the first line is read: before
    uvicorn set its handlers, it killed the process (-15)."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}"}
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "support" / "slow_load_serve.py"), "0.5"],
                            stderr=subprocess.PIPE, text=True, env=env)
    assert "listening on http://" in proc.stderr.readline()  # the load begins
    proc.send_signal(signal.SIGTERM)
    code, log = proc.wait(30), proc.stderr.read()
    assert code == 0 and "terminate called" not in log and "event=ready" not in log, log
    assert [line_fields(line) for line in log.rstrip().splitlines()[-2:]] == [
        {"event": "stopping", "msg": "stopping once the model's load, under way, ends"}, {"event": "stopped"}], log


def test_a_second_ctrl_c_while_the_model_loads_exits_130_at_once():
    """While a first Ctrl+C waits for the load to end, a second one exits at once with 130, as while draining."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}"}
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "support" / "slow_load_serve.py"), "60"],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "listening on http://" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        while "stopping once the model's load, under way, ends" not in (line := proc.stderr.readline()):
            assert line, "the server ended before it said it waits for the load"
        proc.send_signal(signal.SIGINT)
        code, log = proc.wait(10), proc.stderr.read()
    finally:
        proc.kill()
    assert code == 130 and line_fields(log.rstrip().splitlines()[-1]) == {
        "event": "exiting", "signal": "SIGINT", "msg": "second interrupt, exiting now"}, log


def test_a_second_ctrl_c_exits_at_once(servers):
    proc, url = servers[1]

    async def go():
        async with AsyncClient(url) as client:
            async def held():
                yield np.zeros((16, 5), np.float32)
                await asyncio.sleep(60)

            stream = asyncio.create_task(client.stream(held()))
            while "hifigan_active_streams 1.0" not in (await client.http.get("/metrics")).text:
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGINT)  # drains: the stream is still open, so it waits ...
            await asyncio.sleep(0.5)
            waiting = proc.poll()
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)  # ... until the second one
            code = await asyncio.to_thread(proc.wait, 10)
            stream.cancel()
            return waiting, code, time.monotonic() - started

    waiting, code, seconds = asyncio.run(go())
    assert waiting is None and code == 130 and seconds < 2
    assert "second interrupt, exiting now" in proc.stderr.read()


def test_work_cut_off_at_shutdown_is_said_in_the_servers_log_format():
    """--drain-timeout (0.2 s) runs out with a request whose body stalls: what uvicorn then cancels is said in one
    line of the server's log ('shutdown: ... cut off'), not uvicorn's 'ERROR:    Cancel 1 running task(s), timeout
    graceful shutdown exceeded' in its own format among the server's lines."""
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "hifigan.serve")]
    level = loggers[1].level
    loggers[1].setLevel(logging.INFO)
    try:
        with running_server(_tiny(), ServeOptions(drain_timeout_s=0.2)) as running:
            for logger in loggers:  # once uvicorn's Config has set its loggers up (which drops their handlers)
                logger.addHandler(catcher)
            sock = stalled_request(running.url)
            deadline = time.monotonic() + 5
            while running.state.in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            running.server.drain()
            assert answer(sock, timeout=20)[0] == 503
    finally:
        for logger in loggers:
            logger.removeHandler(catcher)
        loggers[1].setLevel(level)
    assert not [r for r in records if r.name == "uvicorn.error"], [r.getMessage() for r in records]
    said = [fields(r.getMessage()) for r in records if r.getMessage().startswith("event=cutting-off ")]
    assert said == [{"event": "cutting-off", "running": "1", "msg": "cutting off 1 request or stream still running "
                     "(--drain-timeout ran out, or the 5 s after the drain for answers being sent)"}], \
        [r.getMessage() for r in records]
