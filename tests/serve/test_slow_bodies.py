"""A request body that trickles in holds a connection, and a drain, only as long as --body-timeout: the idle timeout
alone is per gap, so a byte sent just inside each gap would hold them for ever."""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import Client
from hifigan.serve.limits import ServeOptions
from tests.support.serve import answer, metric, running_server, stalled_request
from tests.support.tiny import tiny_config


def test_a_body_trickling_in_inside_the_idle_timeout_is_408_after_the_body_timeout():
    """A byte every 0.1 s never leaves a gap of --idle-timeout (0.5 s), but the whole body has not come after
    --body-timeout (1 s): a 408 naming that option, counted, the connection closed, nothing left in flight, and the
    server goes on serving. The bytes go on until the answer has come: the server closes lingering, so a byte it
    did not read does not reset the connection (tests/serve/test_lingering_close.py)."""
    cfg = tiny_config()
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg)
    with running_server(vocoder, ServeOptions(idle_timeout_s=0.5, body_timeout_s=1.0)) as running:
        sock = stalled_request(running.url, b"")
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(0.1):
                try:
                    sock.sendall(b"\0")
                except OSError:  # the server answered and closed it
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        started = time.monotonic()
        sender.start()
        try:
            status, headers, body = answer(sock, timeout=10)  # the old code: a socket.timeout here (held for ever)
        finally:
            stop.set()
            sender.join(5)
        assert 0.9 < time.monotonic() - started < 5
        assert status == 408 and headers["connection"] == "close"
        error = json.loads(body)["error"]
        assert error.startswith("the body did not arrive within 1 s: ") and error.endswith(" (--body-timeout)")
        page = httpx.get(f"{running.url}/metrics").text
        assert metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="408"}') == 1
        assert running.state.in_flight == 0 and running.state.receiving == 0
        mel = (np.random.default_rng(0).standard_normal((16, 30)) - 4).astype(np.float32)
        assert np.array_equal(Client(running.url).vocode(mel, "f32"), vocoder(mel).numpy())
