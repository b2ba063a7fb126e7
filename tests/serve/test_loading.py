"""The server listens before its model is loaded: /livez answers 200 at once, /healthz 503 {"status": "loading"}
until the model is ready, and work that comes meanwhile is refused 503 (a request with Retry-After, a stream with
4503), so that an orchestrator can tell a replica that loads from one that is dead. A load that fails still exits 2
in one line."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient, Client, ServeError
from hifigan.serve.codec import NPY_TYPE, npy_bytes
from tests.support.cli_runs import run
from tests.support.serve import metric, running_server, silent_stream
from tests.support.serve_inputs import GOOD
from tests.support.serve_log import line_fields
from tests.support.tiny import tiny_config

LOADING = "the model is still loading: try again in a moment (/readyz says 200 once it is ready)"


def test_probes_answer_while_the_model_loads_and_work_waits_for_it():
    cfg = tiny_config()
    gate = threading.Event()

    def load() -> Vocoder:  # a real model whose load takes as long as the test holds the gate
        assert gate.wait(10), "never released"
        torch.manual_seed(0)
        return Vocoder(Generator(cfg), cfg)

    with running_server(None, load=load) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        assert (http.get("/livez").status_code, http.get("/livez").json()) == (200, {"status": "loading"})
        for probe in ("/readyz", "/healthz"):  # Kubernetes' name, and the one before it: the same answers
            health = http.get(probe)  # says when to ask again, as the work routes' 503 does
            assert (health.status_code, health.json()) == (503, {"status": "loading"})
            assert health.headers.get("retry-after") == "1"
        refused = http.post("/v1/vocode", content=npy_bytes(GOOD), headers={"Content-Type": NPY_TYPE})
        assert (refused.status_code, refused.json(), refused.headers["retry-after"]) == (503, {"error": LOADING}, "1")
        assert http.get("/v1/info").status_code == 503 and http.get("/openapi.json").status_code == 503
        with pytest.raises(ServeError) as caught:
            Client(running.url, ready_timeout=0).stream([GOOD])  # 0: no wait for the model
        assert (caught.value.status, caught.value.message) == (503, LOADING)
        page = http.get("/metrics").text  # the metrics answer too
        assert metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="503"}') == 1
        assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="503"}') == 1

        gate.set()
        deadline = time.monotonic() + 5
        while (health := http.get("/healthz")).status_code != 200:
            assert health.json() == {"status": "loading"} and time.monotonic() < deadline, health.text
            time.sleep(0.01)
        assert health.json() == {"status": "ok"} and http.get("/livez").json() == {"status": "ok"}
        assert "retry-after" not in health.headers
        assert (http.get("/readyz").status_code, http.get("/readyz").json()) == (200, {"status": "ok"})
        assert http.get("/v1/info").json()["num_mels"] == cfg.num_mels

        async def go():
            async with AsyncClient(running.url) as client:
                return await client.vocode(GOOD, fmt="f32"), await client.stream([GOOD], fmt="f32")

        whole, streamed = asyncio.run(go())
        expected = running.state.vocoder(GOOD).numpy()
        assert np.array_equal(whole, expected) and np.abs(streamed.audio - expected).max() <= 1e-5

        async def drained():  # a silent stream keeps the drain (and the server) going while the probes ask
            async with silent_stream(running), httpx.AsyncClient(base_url=running.url, timeout=5) as probe:
                running.server.drain()
                return await probe.get("/readyz"), await probe.get("/healthz"), await probe.get("/livez")

        ready, health, live = asyncio.run(drained())
        assert (health.status_code, health.json(), live.json()) == (503, {"status": "draining"}, {"status": "draining"})
        assert health.headers.get("retry-after") == "1"
        assert (ready.status_code, ready.json(), ready.headers.get("retry-after")) == (503, {"status": "draining"}, "1")


def test_a_checkpoint_that_fails_to_load_exits_2_in_one_line(capsys, tmp_path):
    """The checkpoint is read before the server listens (the engine is built and warmed up after): a bad one fails as
    every refusal does (exit 2, the file and the problem in one line, no traceback), with no server started."""
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    code, _, err = run(capsys, "serve", "-c", bad, "--port", "0", "--threads", "1")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith(f"hifigan serve: error: {bad}: "), err


def test_every_interface_is_printed_as_a_url_a_browser_opens(capsys, tiny_checkpoint):
    """--host 0.0.0.0 (or ::): the listen line names loopback, which a browser opens (it named 0.0.0.0 before), and
    says that the server listens on every interface. (The model then fails at once: cuda-graph on the CPU.)"""
    for host, url in (("0.0.0.0", "http://127.0.0.1:"), ("::", "http://[::1]:")):
        if host == "::" and not socket.has_ipv6:
            continue
        _, _, err = run(capsys, "serve", "-c", tiny_checkpoint, "--port", "0", "--threads", "1", "--device", "cpu",
                        "--backend", "cuda-graph", "--host", host)
        first = line_fields(err.splitlines()[0])
        assert first["url"].startswith(url) and first["model"] == tiny_checkpoint.name, first
        assert re.fullmatch(rf"listening on {re.escape(url)}\d+ \(on every interface, --host {re.escape(host)}: from "
                            rf"other machines, this machine's name or address in its place; "
                            rf"{re.escape(tiny_checkpoint.name)} loading: /readyz says 200 once it is ready\)",
                            first["msg"]), first


def test_a_model_that_fails_after_the_server_listens_exits_2_in_one_line(capsys, tiny_checkpoint):
    """The engine is built once the server listens: a backend the device cannot run (cuda-graph on the CPU) stops the
    server, and serve exits 2 with that one error line after the listen line, no traceback."""
    code, _, err = run(capsys, "serve", "-c", tiny_checkpoint, "--port", "0", "--threads", "1", "--device", "cpu",
                       "--backend", "cuda-graph")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and "Traceback" not in err, err
    assert len(lines) == 2 and line_fields(lines[0])["url"].startswith("http://127.0.0.1:"), err
    assert lines[1] == "hifigan serve: error: backend cuda-graph runs on CUDA only (--device cuda)", err
