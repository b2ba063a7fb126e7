"""Bad input on a stream gets the text error, then close code 4000 + status, and the server goes on serving; streams
that time out, exceed limits or come one too many are refused the same way (bodies: test_errors.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hifigan.serve.client import AsyncClient, Client, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.serve import answer, running_server, silent_stream
from tests.support.serve_inputs import BAD_BODIES, GOOD, count, limited_server, still_serving


@pytest.fixture(scope="module")
def served():
    with limited_server() as served_:
        yield served_


@pytest.mark.parametrize("name", [n for n in BAD_BODIES if n != "too long"])
def test_a_bad_stream_message_is_refused_naming_it(served, name):
    running, vocoder = served
    body, status, words = BAD_BODIES[name]
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream([GOOD[:, :10], body])
    assert caught.value.status == status and words in caught.value.message and "message 1" in caught.value.message
    still_serving(running.url, vocoder)



@pytest.mark.parametrize(("messages", "status", "words"), [
    ([GOOD] * 6 + [GOOD[:, :21]], 413, "the stream is over the limit of 200 frames"),
    ([GOOD, "stop"], 400, "text message 'stop': the only text message is 'end'"),
    ([GOOD, "x" * 25000], 413, "message 1 is 25000 bytes, over the limit of 20000 (--max-message-bytes)"),
    ([GOOD, "é" * 12500], 413, "message 1 is 25000 bytes, over the limit of 20000 (--max-message-bytes)"),  # UTF-8
])
def test_stream_limits_and_text(served, messages, status, words):
    running, vocoder = served
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream(messages)
    assert caught.value.status == status and words in caught.value.message, caught.value
    still_serving(running.url, vocoder)



def test_a_stream_message_of_exactly_the_limit_is_served(served):
    """--max-message-bytes is the most allowed on a stream, as on a body: a message of exactly that size is
    vocoded, one of 64 bytes more (a frame more) is 413."""
    _, vocoder = served
    longer = np.concatenate([GOOD, GOOD[:, :1]], axis=1)
    with running_server(vocoder, ServeOptions(max_message_bytes=len(npy_bytes(GOOD)))) as running:
        assert Client(running.url).stream([GOOD]).audio.size == GOOD.shape[1] * vocoder.config.hop_size
        with pytest.raises(ServeError) as caught:
            Client(running.url).stream([longer])
    assert caught.value.status == 413 and f"is {len(npy_bytes(longer))} bytes" in caught.value.message


def test_a_stream_in_a_format_it_cannot_send_is_refused_naming_the_ones_it_can(served):
    running, vocoder = served  # wav is /v1/vocode's: a stream's chunks are raw samples, concatenated
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream([GOOD], fmt="wav")
    assert (caught.value.status, caught.value.message) == (400, "unknown format 'wav' (choose from pcm16, f32, f64)")
    still_serving(running.url, vocoder)


def test_a_stream_over_a_limit_of_one_frame_says_1_frame(served):
    _, vocoder = served
    with running_server(vocoder, ServeOptions(max_frames=1)) as running, pytest.raises(ServeError) as caught:
        Client(running.url).stream([GOOD[:, :1], GOOD[:, 1:2]])
    said = "the stream is over the limit of 1 frame (--max-frames)"
    assert (caught.value.status, caught.value.message) == (413, said)



def test_a_message_after_end_is_refused(served):
    """The last window waits for company (another stream is open, silent) long enough for the late message to arrive
    before the audio is done: it is refused, not dropped with the close."""
    _, vocoder = served
    with running_server(vocoder, ServeOptions(max_batch_delay_ms=300, max_streams=2)) as patient:
        async def go():
            async with AsyncClient(patient.url) as client, silent_stream(patient):
                await client.stream([GOOD, "end", GOOD])

        with pytest.raises(ServeError) as caught:
            asyncio.run(go())
    assert (caught.value.status, caught.value.message) == (400, "a message after 'end'")



def test_an_idle_stream_is_closed(served):
    running, vocoder = served

    async def slow():
        yield GOOD[:, :10]
        await asyncio.sleep(1.0)  # over the idle timeout of 0.5 s
        yield GOOD[:, 10:]

    async def go():
        async with AsyncClient(running.url) as client:
            return await client.stream(slow())

    with pytest.raises(ServeError) as caught:
        asyncio.run(go())
    assert (caught.value.status, caught.value.message) == (408, "no message for 0.5 s (--idle-timeout)")
    assert running.state.streams == 0
    still_serving(running.url, vocoder)



def test_one_stream_too_many_is_refused_until_one_ends(served):
    running, vocoder = served

    async def go():
        async with AsyncClient(running.url) as client:
            release = asyncio.Event()

            async def held():
                yield GOOD
                await release.wait()

            first = [asyncio.create_task(client.stream(held())) for _ in range(2)]
            while running.state.streams < 2:
                await asyncio.sleep(0.01)
            with pytest.raises(ServeError) as caught:
                await client.stream([GOOD])
            release.set()
            done = await asyncio.gather(*first)
            after = await client.stream([GOOD])  # a slot is free again
            return caught.value, done, after

    refused, done, after = asyncio.run(go())
    assert (refused.status, refused.message) == (429, "too many streams: 2 open, the limit is 2 (--max-streams)")
    expected = vocoder(GOOD).numpy()
    assert all(np.abs(d.audio / 32768 - expected).max() <= 1 / 32768 for d in (*done, after))



def test_a_stream_message_past_the_websocket_limit_counts_as_413(served):
    """Twice --max-message-bytes is the WebSocket layer's limit: a bigger message is cut off there, before the server
    reads it, with 1009 (message too big); it counts as 413, not as a client gone (499), and the client's ServeError
    is that 413, saying why (it was a bare "1009: closed with 1009")."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="WS /v1/stream",status="%s"}'
    before = {s: count(running.url, route % s) for s in ("413", "499")}
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream([np.zeros((16, 1000), np.float32)])  # 64 kB against a limit of 2 x 20000
    assert (caught.value.status, caught.value.message) == (413, "a message over the server's WebSocket limit, twice "
                                                                "--max-message-bytes (closed 1009: message too big)")
    deadline = time.monotonic() + 5
    while count(running.url, route % "413") == before["413"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(running.url, route % "413") == before["413"] + 1
    assert count(running.url, route % "499") == before["499"]
    still_serving(running.url, vocoder)


def test_a_failing_chunk_source_raises_its_own_error_at_once(served):
    """The mels come from the caller's code (an acoustic model): when it raises, the stream raises that error at once
    and ends the stream (a client gone: 499), not the server's idle timeout (408) after waiting for it."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="WS /v1/stream",status="499"}'
    before = count(running.url, route)

    def source():
        yield GOOD[:, :10]
        raise RuntimeError("the acoustic model failed")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"^the acoustic model failed$"):
        Client(running.url).stream(source())
    assert time.monotonic() - started < 0.4  # under LIMITS' idle timeout of 0.5 s
    deadline = time.monotonic() + 5
    while count(running.url, route) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(running.url, route) == before + 1 and running.state.streams == 0
    still_serving(running.url, vocoder)


def test_a_stream_that_trickles_is_closed_after_the_stream_timeout(served):
    """A frame every 0.2 s never meets the 0.5 s idle timeout, and would hold a --max-streams slot for as long as it
    went on: --stream-timeout (0.8 s of waiting for messages in all) closes it with 4408, naming what came."""
    _, vocoder = served
    options = ServeOptions(idle_timeout_s=0.5, stream_timeout_s=0.8, max_streams=1)

    async def trickle():
        for i in range(GOOD.shape[1]):
            yield GOOD[:, i : i + 1]
            await asyncio.sleep(0.2)

    async def go():
        async with AsyncClient(running.url) as client:
            return await client.stream(trickle())

    with running_server(vocoder, options) as running:
        started = time.monotonic()
        with pytest.raises(ServeError) as caught:
            asyncio.run(go())
        took = time.monotonic() - started
        deadline = time.monotonic() + 5
        while running.state.streams and time.monotonic() < deadline:
            time.sleep(0.01)
        assert running.state.streams == 0  # the slot is free: another stream is served
        assert Client(running.url).stream([GOOD]).audio.shape == (GOOD.shape[1] * 16,)
    assert caught.value.status == 408 and 0.8 <= took < 2.0, (caught.value, took)
    said = re.fullmatch(r"the stream did not end within 0\.8 s of waiting for its messages: (\d+) frames in (\d+) "
                        r"messages came \(--stream-timeout\)", caught.value.message)
    assert said and said[1] == said[2] and 3 <= int(said[1]) <= 5, caught.value.message  # one a 0.2 s, for 0.8 s


def test_a_plain_get_of_the_stream_route_is_426_naming_the_upgrade(served):
    """/v1/stream without the WebSocket upgrade (curl, or a proxy that does not pass the Upgrade and Connection
    headers on) reaches a route the server has: 426 with Upgrade: websocket (RFC 9110), not the 404 'Not Found' of a
    path it does not have, counted under GET /v1/stream."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="GET /v1/stream",status="426"}'
    before = count(running.url, route)
    answered = httpx.get(running.url + "/v1/stream")
    assert (answered.status_code, answered.headers["upgrade"]) == (426, "websocket")
    assert answered.json() == {"error": "/v1/stream is a WebSocket: open it with a WebSocket client (ws://), and "
                                        "have a proxy in front pass the Upgrade and Connection headers on"}
    assert count(running.url, route) == before + 1
    still_serving(running.url, vocoder)


def test_a_stream_on_a_path_the_server_does_not_have_is_a_404_saying_so(served):
    """A WebSocket on another path (a proxy's prefix left on, an HTTP route's path) is refused before the upgrade
    with the 404 and JSON error of any path the server does not have, counted and logged under WS (no such route),
    not uvicorn's bare 403 that reads as a refused login and that no metric counts; the client raises it."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="WS (no such route)",status="404"}'
    before = count(running.url, route)
    with pytest.raises(ServeError) as caught:
        Client(running.url + "/api").stream([GOOD])  # /api/v1/stream
    assert (caught.value.status, caught.value.message) == (404, "Not Found: the WebSocket route is /v1/stream")

    async def on_vocode():
        with pytest.raises(InvalidStatus) as refused:
            await connect(running.url.replace("http", "ws") + "/v1/vocode")
        return refused.value.response

    response = asyncio.run(on_vocode())
    assert response.status_code == 404
    assert json.loads(response.body) == {"error": "Not Found: the WebSocket route is /v1/stream"}
    assert count(running.url, route) == before + 2
    still_serving(running.url, vocoder)


HANDSHAKE = b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
KEY = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"


@pytest.mark.parametrize(("request_", "status", "why"), [
    (b"GET /v1/stream HTTP/1.1\r\n" + HANDSHAKE + b"Sec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n",
     400, "invalid Sec-WebSocket-Key header: nope"),
    (b"GET /v1/stream HTTP/1.1\r\n" + HANDSHAKE + KEY + b"Sec-WebSocket-Version: 8\r\n\r\n",
     400, "invalid Sec-WebSocket-Version header: 8"),
    (b"POST /v1/stream HTTP/1.1\r\n" + HANDSHAKE + KEY + b"Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
     405, "unsupported HTTP method: POST"),
], ids=["bad key", "version 8", "POST"])
def test_a_handshake_websockets_refuses_is_a_json_error_logged_and_counted(served, request_, status, why, caplog):
    """The WebSocket layer refuses a malformed handshake before the server's routes see it: it answered in plain text
    ('Failed to open a WebSocket connection: ...'), logged nothing and counted nothing. Now {"error": ...} with its
    status (and headers: a 405's Allow), one '(connection)' line and hifigan_connections_dropped_total, as for what
    h11 refuses."""
    running, vocoder = served
    dropped = 'hifigan_connections_dropped_total{reason="invalid-request"}'
    before = count(running.url, dropped)
    host, port = running.url.removeprefix("http://").split(":")
    with caplog.at_level(logging.INFO, logger="hifigan.serve"):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(request_)
        answered, headers, body = answer(sock, timeout=5)
    assert (answered, headers["content-type"]) == (status, "application/json")
    assert json.loads(body) == {"error": f"WebSocket handshake refused: {why}"}
    assert headers.get("allow") == ("get" if status == 405 else None)  # answer() reads the headers lowercased
    assert count(running.url, dropped) == before + 1
    said = [r.getMessage() for r in caplog.records if r.name == "hifigan.serve"]
    assert len(said) == 1 and said[0].startswith(
        f'route=(connection) status={status} error="WebSocket handshake refused: '), said
    still_serving(running.url, vocoder)
