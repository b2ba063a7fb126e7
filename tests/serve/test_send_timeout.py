"""A client that stops reading what the server sends it (a request's answer, a stream's audio) is reset once the buffers
on the way have stayed full for --send-timeout: its connection, and a stream's --max-streams slot, are freed, and the
cut is counted (hifigan_connections_dropped_total{reason="send-timeout"}; a stream as 499) and logged. uvicorn alone
waited for such a client for as long as it kept the connection open (watched for 600 s)."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time

import httpx
import numpy as np
import pytest
import torch
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import Client
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.serve import metric, random_mels, running_server
from tests.support.tiny import tiny_config

BUFFER = 1 << 12  # the sockets' buffers both ways: no autotuning up to tcp_wmem's and tcp_rmem's max
FRAMES = 2000  # 32 000 float64 samples: 256 kB of audio, far over the buffers on the way (the transport's 64 KiB too)
CUT_LINE = re.compile(r'route=\(connection\) status=reset error="the client stopped reading: [\d.]+ KB still to send, '
                      r'none taken for 1 s \(--send-timeout\)" client=127\.0\.0\.1:\d+')


@pytest.fixture(scope="module")
def vocoder():
    cfg = tiny_config()
    torch.manual_seed(0)
    return Vocoder(Generator(cfg), cfg)


def _connect(url: str) -> socket.socket:
    """A connection to the server of `url` with a small receive buffer, that reads nothing unless told."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
    sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    return sock


def _wait_for(condition, seconds: float, what: str) -> float:
    """Seconds until `condition()` held (AssertionError naming `what` after `seconds`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, what
        time.sleep(0.01)
    return time.monotonic() - started


def _unread_stream(running):
    """A f64 stream to `running` over a socket with the small receive buffer (_connect), whose client keeps one
    message queued at most: once that is full, it reads nothing the test does not."""
    url = running.url.replace("http", "ws") + "/v1/stream?format=f64"
    return connect(url, sock=_connect(running.url), max_queue=1, max_size=None)


async def _send_in_pieces(ws, mel: np.ndarray, end: bool) -> None:
    """`mel` sent in pieces of 100 frames, then "end" where `end`."""
    for start in range(0, mel.shape[1], 100):
        await ws.send(npy_bytes(mel[:, start : start + 100]))
    if end:
        await ws.send("end")


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "hifigan.serve"]


def test_a_request_whose_answer_is_not_read_is_reset_after_the_send_timeout(vocoder, caplog):
    """The answer is written; its client reads none of it. Its connection holds the one --max-connections slot (a
    second client is refused 503) until --send-timeout (1 s) has passed with the buffers full: then it is reset,
    counted and logged, and the next client is served. The stalled client, reading at last, gets what the kernel had
    delivered and then the reset, not a clean end that would pass for the whole answer."""
    mel = random_mels(np.random.default_rng(0), 16, [FRAMES])[0]
    body = npy_bytes(mel)
    options = ServeOptions(max_frames=FRAMES, max_connections=1, send_timeout_s=1.0)
    with caplog.at_level(logging.INFO, logger="hifigan.serve"), \
            running_server(vocoder, options, send_buffer=BUFFER) as running:
        page = lambda: running.state.metrics.text()[0].decode()  # noqa: E731
        with _connect(running.url) as stalled:
            stalled.sendall(b"POST /v1/vocode?format=f64 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(body) + body)
            answered = 'hifigan_requests_total{route="POST /v1/vocode",status="200"}'
            _wait_for(lambda: answered in page(), 10, "the request was not answered")
            refused = httpx.get(f"{running.url}/healthz")  # its connection is still held
            cut = 'hifigan_connections_dropped_total{reason="send-timeout"}'
            took = _wait_for(lambda: cut in page(), 5, "the stalled connection was never reset")  # the old code: held
            # the count comes before the abort, whose connection_lost the server's loop runs next
            _wait_for(lambda: not running.server.server_state.connections, 2, "the reset connection is still held")
            assert np.array_equal(Client(running.url).vocode(mel, "f64"), vocoder(mel).numpy())  # the slot is free
            stalled.settimeout(5)
            received = b""
            with pytest.raises(ConnectionResetError):
                while chunk := stalled.recv(1 << 16):
                    received += chunk
    assert refused.status_code == 503 and "--max-connections" in refused.json()["error"]
    assert 0.8 < took < 3, took
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and len(received) < 8 * FRAMES * 16
    assert metric(page(), cut) == 1
    assert any(CUT_LINE.fullmatch(line) for line in _lines(caplog)), _lines(caplog)


def test_a_client_that_reads_slowly_is_not_reset(vocoder):
    """A client that takes the answer a little at a time, for longer than --send-timeout (1 s) with the buffers full
    all along, is reading: it gets the whole answer, and no reset is counted (a slow link and a large answer; the clock
    starts again each time some bytes were taken)."""
    mel = random_mels(np.random.default_rng(3), 16, [FRAMES])[0]
    body = npy_bytes(mel)
    options = ServeOptions(max_frames=FRAMES, send_timeout_s=1.0)
    with running_server(vocoder, options, send_buffer=BUFFER) as running:
        with _connect(running.url) as slow:
            slow.sendall(b"POST /v1/vocode?format=f64 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            slow.settimeout(5)
            started, received = time.monotonic(), b""
            while chunk := slow.recv(BUFFER):
                received += chunk
                time.sleep(0.05)  # some KB/s: the answer takes seconds
            took = time.monotonic() - started
        page = running.state.metrics.text()[0].decode()
    head, _, audio = received.partition(b"\r\n\r\n")
    assert took > 2, took  # the read spanned the timeout twice over, else this proves nothing
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    expected = vocoder(mel).numpy()
    audio = np.frombuffer(audio, "<f8")
    # all of it (its threads may round the float32 model's last bits otherwise than this process's call)
    assert audio.shape == expected.shape and np.abs(audio - expected).max() < 1e-6
    assert 'hifigan_connections_dropped_total{reason="send-timeout"}' not in page


def test_a_stream_whose_audio_is_not_read_is_reset_and_frees_its_slot(vocoder, caplog):
    """A stream sends all its frames and 'end' but reads no audio: once the buffers on the way are full, --send-timeout
    (1 s) later its connection is reset; the stream ends counted as 499 and logged with why, the cut counted as
    send-timeout, and the one --max-streams slot serves the next stream. Before, it held the slot (and a drain) for as
    long as its client kept the connection open."""
    mel = random_mels(np.random.default_rng(1), 16, [FRAMES])[0]
    options = ServeOptions(max_frames=FRAMES, max_streams=1, send_timeout_s=1.0, max_batch_delay_ms=0)
    with caplog.at_level(logging.INFO, logger="hifigan.serve"), \
            running_server(vocoder, options, send_buffer=BUFFER) as running:
        async def stall() -> float:
            async with _unread_stream(running) as ws:
                sender = asyncio.create_task(_send_in_pieces(ws, mel, end=True))
                while not running.state.streams:
                    await asyncio.sleep(0.01)
                held = running.server.server_state.connections
                took = await asyncio.to_thread(_wait_for, lambda: not running.state.streams and not held, 5,
                                               "the stalled stream was never reset")  # the old code: held for ever
                await sender
                with pytest.raises(ConnectionClosedError):  # reading at last: what came, then the reset, no close
                    async for _ in ws:
                        pass
                return took

        took = asyncio.run(stall())
        page = running.state.metrics.text()[0].decode()
        assert np.abs(Client(running.url).stream([mel], "f64").audio - vocoder(mel).numpy()).max() < 1e-12
    assert 0.8 < took < 4, took
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="499"}') == 1
    assert metric(page, 'hifigan_connections_dropped_total{reason="send-timeout"}') == 1
    lines = _lines(caplog)
    assert any(CUT_LINE.fullmatch(line) for line in lines), lines
    said = [line for line in lines if line.startswith('route="WS /v1/stream" status=499 ')]
    assert len(said) == 1 and re.fullmatch(r'route="WS /v1/stream" status=499 error="the client stopped reading: '
                                           r'[\d.]+ KB still to send, none taken for 1 s \(--send-timeout\)" '
                                           r'frames=\d+ duration=[\d.]+ms', said[0]), said


def test_a_held_back_stream_the_drain_cuts_off_counts_as_503_not_a_traceback(vocoder):
    """A client that does not read holds its stream back (the server stops reading its messages). When
    --drain-timeout (0.3 s) runs out first, uvicorn's shutdown cancels that stream, which never reads the 1012 queued
    for it: it counts as 503 like the other streams the drain cuts off. It logged 'Exception in ASGI application' with
    a CancelledError traceback, and was counted as nothing."""
    frames = 3000
    mel = random_mels(np.random.default_rng(2), 16, [frames])[0]
    options = ServeOptions(max_frames=frames, stream_backlog=100, drain_timeout_s=0.3, max_batch_delay_ms=0)
    errors: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = errors.append  # type: ignore[method-assign]
    with running_server(vocoder, options, send_buffer=BUFFER) as running:
        async def held_back() -> None:
            async with _unread_stream(running) as ws:
                sender = asyncio.create_task(_send_in_pieces(ws, mel, end=False))
                while not any(s.cursor.ready > 100 for s in running.state.sessions):  # held back
                    await asyncio.sleep(0.01)
                running.server.drain()
                await asyncio.to_thread(_wait_for, lambda: not running.state.streams, 5, "the stream is open")
                sender.cancel()
                ws.transport.abort()

        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addHandler(handler)  # once the server started: uvicorn's Config drops the handlers it finds
        try:
            asyncio.run(held_back())
        finally:
            uvicorn_log.removeHandler(handler)
        page = running.state.metrics.text()[0].decode()
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="503"}') == 1
    assert not [r for r in errors if r.getMessage() == "Exception in ASGI application\n"], errors
