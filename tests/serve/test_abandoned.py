"""A client that hangs up after sending its mel, while the mel waits for its pass, is a 499: its mel leaves the
queue at once and no audio is counted as served (a TTS front-end that timed out must not cost the server a pass)."""

from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.serve import metric, running_server, silent_stream
from tests.support.tiny import tiny_config


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_client_gone_while_its_mel_is_queued_counts_as_499_and_leaves_the_queue():
    """A silent stream makes a pass wait --max-batch-delay-ms (3 s) for its window, so the request's mel stays
    queued; its client hangs up: the mel leaves the queue well before the delay ends, the request counts as 499
    (not 200), and no audio is counted as served. The old code vocoded it after the delay and counted a 200."""
    cfg = tiny_config()
    torch.manual_seed(0)
    mel = (np.random.default_rng(0).standard_normal((16, 30)) - 4).astype(np.float32)
    body = npy_bytes(mel)
    with running_server(Vocoder(Generator(cfg), cfg), ServeOptions(max_batch_delay_ms=3000)) as running:
        state = running.state

        async def abandon() -> float:
            async with silent_stream(running):
                host, port = running.url.removeprefix("http://").split(":")
                with socket.create_connection((host, int(port))) as sock:
                    sock.sendall(b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(body) + body)
                    await asyncio.to_thread(_wait_for, lambda: state.scheduler.depth == 1, 5, "never queued")
                hung_up = time.monotonic()
                await asyncio.to_thread(_wait_for, lambda: state.in_flight == 1, 5, "the request is not answered")
                await asyncio.to_thread(_wait_for, lambda: state.scheduler.depth == 0, 5, "its mel stayed queued")
                return time.monotonic() - hung_up

        assert asyncio.run(abandon()) < 1.5  # not the 3 s of the batch delay
        page = state.metrics.text()[0].decode()
        assert metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="499"}') == 1
        assert 'hifigan_requests_total{route="POST /v1/vocode",status="200"}' not in page
        assert metric(page, "hifigan_audio_seconds_total") == 0
        # the silent stream's close reaches the server after the client's side has returned (seen as in_flight 1
        # under a loaded CPU): wait for it rather than race it
        _wait_for(lambda: state.in_flight == 0 and state.scheduler.depth == 0, 5, "the stream is still in flight")
