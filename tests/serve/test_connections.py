"""Connections bounded before a request reaches the app (serve.http_protocol): --header-timeout for a request's headers
and --max-connections open at once, with raw sockets on a real server."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.serve import Running, answer, metric, running_server
from tests.support.tiny import tiny_config

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


def _vocoder() -> Vocoder:
    cfg = tiny_config()
    torch.manual_seed(0)
    return Vocoder(Generator(cfg), cfg)


@pytest.fixture(scope="module")
def served():
    with running_server(_vocoder(), ServeOptions(header_timeout_s=0.5)) as running:
        yield running


def _connect(running: Running) -> socket.socket:
    host, port = running.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)))


def _one_held(running: Running) -> tuple[socket.socket, float]:
    """A connection opened and seen by the server (at --max-connections 1: the limit reached), and a deadline 5 s on."""
    held = _connect(running)
    deadline = time.monotonic() + 5
    while len(running.server.server_state.connections) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return held, deadline


def _dropped(running: Running, reason: str) -> float:
    try:
        text = running.state.metrics.text()[0].decode()
        return metric(text, f'hifigan_connections_dropped_total{{reason="{reason}"}}')
    except KeyError:
        return 0.0


def _trickle(sock: socket.socket, limit_s: float) -> tuple[float, bytes]:
    """Sends a header's bytes one every 50 ms until the server answers or closes (or `limit_s` passes): how long it
    took and what the server sent."""
    started = time.monotonic()
    sock.settimeout(0.05)
    sock.sendall(b"X-Slow: ")
    while time.monotonic() - started < limit_s:
        try:
            sock.sendall(b"a")
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionError:
            return time.monotonic() - started, b""
        elapsed = time.monotonic() - started
        sock.settimeout(5)
        while chunk := sock.recv(65536):
            data += chunk
        return elapsed, data
    raise AssertionError(f"the connection was still open after {limit_s} s")


def _is_408(data: bytes) -> None:
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), head
    assert json.loads(body)["error"].startswith("the request headers did not arrive within 0.5 s")


def test_a_client_trickling_its_headers_is_answered_408_within_the_header_timeout(served):
    """Header bytes sent one at a time held a connection for ever (uvicorn has no timeout before a request's headers
    are in): now --header-timeout (0.5 s) after it opened, it is answered 408, counted and closed."""
    before = _dropped(served, "header-timeout")
    with _connect(served) as sock:
        sock.sendall(HEALTHZ)
        elapsed, data = _trickle(sock, limit_s=4)
    assert 0.4 < elapsed < 3, elapsed
    _is_408(data)
    assert _dropped(served, "header-timeout") == before + 1
    assert httpx.get(f"{served.url}/healthz").status_code == 200


def test_a_kept_alive_connection_trickling_its_next_request_is_answered_408(served):
    """After a first request, the next one's first byte stops uvicorn's keep-alive timer: its headers are bounded by
    --header-timeout from there."""
    with _connect(served) as sock:
        sock.sendall(HEALTHZ + b"\r\n")
        sock.settimeout(5)
        data = b""
        while b'{"status":"ok"}' not in data:
            data += sock.recv(65536)
        sock.sendall(HEALTHZ)
        elapsed, data = _trickle(sock, limit_s=4)
    assert 0.4 < elapsed < 3, elapsed
    _is_408(data)


def test_a_silent_connection_is_closed_after_the_header_timeout(served):
    """A connection that sends nothing (a port scanner) is closed --header-timeout after it opened, no answer."""
    with _connect(served) as sock:
        sock.settimeout(4)
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert 0.4 < time.monotonic() - started < 3


def test_the_header_timeout_ends_with_the_headers(served):
    """Once a request's headers are in, --header-timeout no longer applies: a stream silent past it, and a body
    paused past it, are served whole (the header timer of a WebSocket's connection must not close the stream)."""
    mel = np.zeros((16, 20), np.float32) - 4

    async def pausing():
        yield mel[:, :10]
        await asyncio.sleep(1.0)  # twice the header timeout
        yield mel[:, 10:]

    async def go():
        async with AsyncClient(served.url) as client:
            return await client.stream(pausing())

    assert len(asyncio.run(go()).audio) == 20 * tiny_config().hop_size
    body = npy_bytes(mel)
    with _connect(served) as sock:
        sock.sendall(b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:100])
        time.sleep(1.0)
        sock.sendall(body[100:])
        status, _, _ = answer(sock, timeout=5)
    assert status == 200


def test_beyond_max_connections_a_new_client_gets_503_while_the_others_are_served():
    """With --max-connections 3 open (their headers still arriving), a fourth is answered 503 as soon as it
    connects, counted, and closed; the three are then served."""
    with running_server(_vocoder(), ServeOptions(max_connections=3)) as running:
        held = [_connect(running) for _ in range(3)]
        for sock in held:
            sock.sendall(HEALTHZ)
        deadline = time.monotonic() + 5
        while len(running.server.server_state.connections) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        extra = _connect(running)
        extra.sendall(HEALTHZ + b"\r\n")
        status, headers, body = answer(extra, timeout=5)
        assert status == 503 and headers["connection"] == "close"
        assert json.loads(body) == {"error": "3 connections are open, the limit (--max-connections)"}
        assert _dropped(running, "max-connections") == 1
        for sock in held:
            sock.sendall(b"Connection: close\r\n\r\n")
            status, _, body = answer(sock, timeout=5)
            assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_a_client_gone_before_its_503_is_counted_without_a_traceback():
    """A client that connects and closes at once (a load balancer's TCP health check) beyond --max-connections is
    gone when its 503 is written: the loopback's reset then came before the end of the stream was sent, and
    that OSError (ENOTCONN) was logged as a traceback from the event loop for each one. Counted, logged in one line,
    and closed."""
    loop_errors: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = loop_errors.append  # type: ignore[method-assign]
    logging.getLogger("asyncio").addHandler(catcher)
    try:
        with running_server(_vocoder(), ServeOptions(max_connections=1)) as running:
            held, deadline = _one_held(running)
            for _ in range(10):
                _connect(running).close()
            while _dropped(running, "max-connections") < 10:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            held.sendall(HEALTHZ + b"Connection: close\r\n\r\n")
            status, _, body = answer(held, timeout=5)
            assert (status, json.loads(body)) == (200, {"status": "ok"})
    finally:
        logging.getLogger("asyncio").removeHandler(catcher)
    assert not loop_errors, [r.getMessage() for r in loop_errors]


INVALID = {  # name: what the client sends (h11 refuses it before the app sees a request)
    "bad Content-Length": b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Length: 12ab\r\n\r\n",
    "two Content-Lengths": b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "bytes after a body without one": HEALTHZ + b"\r\nnot a request\r\n\r\n",
}


@pytest.mark.parametrize("name", list(INVALID))
def test_what_h11_refuses_is_logged_and_counted_like_the_other_refusals(served, name, caplog):
    """uvicorn answered these 400 in text and logged 'Invalid HTTP request received.' in its own format, without the
    client, and no metric counted them: now a JSON 400, one '(connection) 400 ... client=' line in the server's log,
    none of uvicorn's, and hifigan_connections_dropped_total{reason="invalid-request"}."""
    uvicorn_records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = uvicorn_records.append  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(catcher)
    before = _dropped(served, "invalid-request")
    try:
        with caplog.at_level(logging.INFO, logger="hifigan.serve"):
            sock = _connect(served)
            sock.sendall(INVALID[name])
            sock.settimeout(5)
            data = b""
            with sock:
                while chunk := sock.recv(65536):
                    data += chunk
    finally:
        logging.getLogger("uvicorn.error").removeHandler(catcher)
    last = data[data.rindex(b"HTTP/1.1 "):]
    head, _, body = last.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), data
    assert json.loads(body)["error"].startswith("invalid HTTP request")
    assert _dropped(served, "invalid-request") == before + 1
    lines = [r.getMessage() for r in caplog.records if r.name == "hifigan.serve"]
    lines = [line for line in lines if line.startswith("route=(connection) status=400 ")]
    assert len(lines) == 1 and "client=127.0.0.1:" in lines[0], lines
    assert not [r for r in uvicorn_records if "Invalid HTTP request" in r.getMessage()]


def test_an_upgrade_to_http2_is_served_as_http_1_1_without_uvicorns_warning(served, caplog):
    """`curl --http2 http://...` asks to upgrade to h2c: the request is served over HTTP/1.1 (RFC 9110 lets a server
    ignore Upgrade) and logged as any other, without uvicorn's 'WARNING:  Unsupported upgrade request.' in its own
    format for each one."""
    uvicorn_records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = uvicorn_records.append  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(catcher)
    try:
        with caplog.at_level(logging.INFO, logger="hifigan.serve"):
            mel = npy_bytes(np.zeros((16, 3), np.float32))
            answered = httpx.post(f"{served.url}/v1/vocode?format=f32", content=mel,
                                  headers={"Content-Type": "application/x-npy", "Connection": "Upgrade, HTTP2-Settings",
                                           "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"})
    finally:
        logging.getLogger("uvicorn.error").removeHandler(catcher)
    assert (answered.status_code, answered.http_version, len(answered.content)) == (200, "HTTP/1.1", 3 * 16 * 4)
    assert [r.getMessage() for r in uvicorn_records] == []
    lines = [r.getMessage() for r in caplog.records if r.name == "hifigan.serve"]
    assert len(lines) == 1 and lines[0].startswith('route="POST /v1/vocode" status=200 frames=3 '), lines


def test_a_stream_refused_before_its_upgrade_raises_serve_error_with_the_message():
    """A 503 of --max-connections comes before the WebSocket upgrade: the client raises it as ServeError with the
    server's message, as it does for /v1/vocode, not as the websockets library's InvalidStatus."""
    with running_server(_vocoder(), ServeOptions(max_connections=1)) as running:
        held, _ = _one_held(running)

        async def stream() -> None:
            async with AsyncClient(running.url, ready_timeout=0) as client:
                await client.stream([np.zeros((16, 4), np.float32)])

        with pytest.raises(ServeError) as refused:
            asyncio.run(stream())
        assert (refused.value.status, refused.value.message) == (503, "1 connection is open, the limit "
                                                                      "(--max-connections)")
        held.close()
