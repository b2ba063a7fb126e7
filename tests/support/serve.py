"""A real `hifigan serve` app on uvicorn, in a thread on a free loopback port, for the tests of tests/serve/."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import numpy as np
from websockets.asyncio.client import connect

from hifigan.inference.vocoder import Vocoder
from hifigan.serve.app_state import ServeState
from hifigan.serve.limits import ServeOptions
from hifigan.serve.routes import build_app
from hifigan.serve.server import DrainingServer, Loader, bind, make_server
from tests.support.threads import threads


@dataclass
class Running:
    url: str
    state: ServeState
    server: DrainingServer


@contextmanager
def running_server(vocoder: Vocoder | None, options: ServeOptions | None = None, name: str = "tiny",
                   send_buffer: int | None = None, load: Callable[[], Vocoder] | None = None) -> Iterator[Running]:
    """The app of `vocoder` served on 127.0.0.1 (a free port) until the block ends; the model runs on one thread.
    `send_buffer`: the SO_SNDBUF of the connections (else the kernel's autotuned one, up to tcp_wmem's max).
    `load` (with `vocoder` None): the server listens at once and loads its model with it, as `hifigan serve` does."""
    options = options or ServeOptions()
    with threads(1):  # the shared 2-core machine: the batcher's thread alone computes
        app = build_app(vocoder, name, options)
        state = app.state.serve
        sock = bind("127.0.0.1", 0)
        if send_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)  # accepted connections inherit it
        port = sock.getsockname()[1]
        server = make_server(app, state, 2 * state.options.max_message_bytes)  # fitted by build_app
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        if load is not None:
            Loader(server, load).start()
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        try:
            yield Running(f"http://127.0.0.1:{port}", state, server)
        finally:
            server.should_exit = True
            thread.join(20)


@asynccontextmanager
async def silent_stream(running: Running):
    """A stream opened and left silent: the server counts it as being served, so a pass waits --max-batch-delay-ms
    for its window (work stays queued, or a late message has time to arrive). Yields the connection once counted."""
    before = running.state.streams
    async with connect(running.url.replace("http", "ws") + "/v1/stream") as ws:
        while running.state.streams <= before:
            await asyncio.sleep(0.005)
        yield ws


def metric(text: str, name: str) -> float:
    """The value of one sample line of a Prometheus text page (`name` with its labels, as printed)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise KeyError(name)


def random_mels(rng: np.random.Generator, num_mels: int, lengths: list[int]) -> list[np.ndarray]:
    """Log-mel-like float32 mels of the given lengths."""
    return [(rng.standard_normal((num_mels, n)) - 4).astype(np.float32) for n in lengths]


def split(mel: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Consecutive pieces of `sizes` frames (the last takes the rest)."""
    frames = mel.shape[1]
    bounds = [min(int(b), frames) for b in np.cumsum([0, *sizes])] + [frames]
    return [mel[:, a:b] for a, b in itertools.pairwise(bounds) if b > a]


def assert_same_int16(got: np.ndarray, expected: np.ndarray, what: object = "") -> None:
    """int16 audio equal to `expected` but for float32 rounding: the same length, and a sample that differs does so
    by one step and rarely (a float a few ulp off crosses a truncation boundary; batched and streamed passes run
    other kernels than one-shot). A lost, duplicated or misplaced chunk differs by far more; a rounding rule changed
    (truncation) moves about half the samples. Which samples flip depends on what shared the batch, so a short clip
    may show two or three: the allowance is 0.2% of the samples but at least 8."""
    assert got.dtype == np.int16 and got.shape == expected.shape, (what, got.shape, expected.shape)
    diff = np.abs(got.astype(np.int32) - expected.astype(np.int32))
    flipped = int((diff > 0).sum())
    assert diff.max(initial=0) <= 1 and flipped <= max(8, 2e-3 * diff.size), (what, diff.max(), flipped)


def stalled_request(url: str, sent: bytes = b"\x93NU") -> socket.socket:
    """A POST /v1/vocode whose body never finishes: Content-Length 1000, `sent` sent, the connection kept open."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
                 b"Content-Length: 1000\r\n\r\n" + sent)
    return sock


def answer(sock: socket.socket, timeout: float) -> tuple[int, dict, bytes]:
    """The status, headers and body of the response on `sock`, read until the server closes it."""
    sock.settimeout(timeout)
    data = b""
    with sock:
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body
