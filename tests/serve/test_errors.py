"""Bad input gets a 4xx and {"error": "..."} naming the problem, over HTTP and on a stream (the text error, then
close code 4000 + status), and the server goes on serving; streams that time out, exceed limits or come one too
many are refused the same way."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient, Client, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.files import REPO
from tests.support.serve import answer, metric, running_server, silent_stream, stalled_request
from tests.support.tiny import tiny_config

LIMITS = ServeOptions(max_batch=4, max_batch_delay_ms=2, max_frames=200, max_streams=2, max_message_bytes=20000,
                      idle_timeout_s=0.5)
GOOD = (np.random.default_rng(0).standard_normal((16, 30)) - 4).astype(np.float32)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=array.dtype == object)
    return buffer.getvalue()


def _with(value: float) -> np.ndarray:
    mel = GOOD.copy()
    mel[3, 7] = value
    return mel


SHAPES = "[16, T] or [1, 16, T]"  # what a body or stream message may be, as every error says it (codec.mel_shapes)
BAD_BODIES = {  # name: (body, status, words the error holds)
    "empty": (b"", 400, f"is empty (expected the bytes of numpy.save of a float32 {SHAPES} mel"),
    "not npy": (b"RIFF....WAVEfmt ", 400,
                f"is not a .npy file (expected the bytes of numpy.save of a float32 {SHAPES} mel)"),
    "truncated npy": (_npy(GOOD)[:150], 400, "is not a readable .npy file"),
    "pickled object": (_npy(np.array([{}], dtype=object)), 400, "is not a readable .npy file"),
    "float64": (_npy(GOOD.astype(np.float64)), 400, "has dtype float64, expected float32"),
    "int16": (_npy(GOOD.astype(np.int16)), 400, "has dtype int16, expected float32"),
    "1-D": (_npy(GOOD[0]), 400, f"has shape [30], expected {SHAPES} with T >= 1"),
    "batch of 2": (_npy(np.stack([GOOD, GOOD])), 400, f"has shape [2, 16, 30], expected {SHAPES} with T >= 1"),
    "batch of 1, no frames": (_npy(GOOD[None, :, :0]), 400,
                              f"has shape [1, 16, 0], expected {SHAPES} with T >= 1"),
    "no frames": (_npy(GOOD[:, :0]), 400, f"has shape [16, 0], expected {SHAPES} with T >= 1"),
    "15 mels": (_npy(GOOD[:15]), 400,
                f"has 15 mel bins, the model expects 16 (shape [15, 30], expected {SHAPES})"),
    "transposed": (_npy(np.ascontiguousarray(GOOD.T)), 400, "has 30 mel bins, the model expects 16"),
    "NaN": (_npy(_with(np.nan)), 400, "holds 1 NaN or infinite values"),
    "inf": (_npy(_with(-np.inf)), 400, "holds 1 NaN or infinite values"),
    "too long": (_npy(np.zeros((16, 201), np.float32)), 413, "has 201 frames, more than the limit of 200"),
    "too big": (_npy(np.zeros((16, 400), np.float32)), 413, "over the limit of 20000"),
}


@pytest.fixture(scope="module")
def served():
    cfg = tiny_config()
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg)
    with running_server(vocoder, LIMITS) as running:
        yield running, vocoder


def _still_serving(url: str, vocoder: Vocoder) -> None:
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert np.array_equal(Client(url).vocode(GOOD, "f32"), vocoder(GOOD).numpy())


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_bad_body_is_a_4xx_naming_the_problem(served, name):
    running, vocoder = served
    body, status, words = BAD_BODIES[name]
    response = httpx.post(f"{running.url}/v1/vocode", content=body, headers={"Content-Type": "application/x-npy"})
    assert response.status_code == status and response.headers["content-type"] == "application/json"
    assert words in response.json()["error"], response.json()
    _still_serving(running.url, vocoder)


def test_a_body_of_exactly_the_limits_is_served():
    """--max-frames and --max-message-bytes are the most allowed: exactly that much is served, one more is 413
    (the body's size checked from its Content-Length, and again as a chunked body arrives)."""
    cfg = tiny_config()
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg)
    body = npy_bytes(GOOD)
    headers = {"Content-Type": "application/x-npy"}
    with running_server(vocoder, ServeOptions(max_frames=30, max_message_bytes=len(body))) as running:
        url = f"{running.url}/v1/vocode?format=f32"
        for content in (body, iter([body[:100], body[100:]])):
            assert httpx.post(url, content=content, headers=headers).status_code == 200
        for content in (body + b"\0", iter([body, b"\0"])):
            assert httpx.post(url, content=content, headers=headers).status_code == 413
        longer = npy_bytes(np.concatenate([GOOD, GOOD[:, :1]], axis=1))  # 31 frames, and 64 bytes more
    with running_server(vocoder, ServeOptions(max_frames=30)) as running:
        answer = httpx.post(f"{running.url}/v1/vocode", content=longer, headers=headers)
        assert answer.status_code == 413 and "has 31 frames, more than the limit of 30" in answer.json()["error"]


def test_a_draining_server_refuses_new_requests_and_streams():
    """Once SIGTERM has set the server draining, new work is refused with 503 (a stream: close code 4503) and the
    reason, as docs/serving.md says; test_shutdown sees the work in flight finish."""
    cfg = tiny_config()
    torch.manual_seed(0)
    with running_server(Vocoder(Generator(cfg), cfg)) as running:
        running.state.draining = True
        with pytest.raises(ServeError) as caught:
            Client(running.url).stream([GOOD])
        assert (caught.value.status, caught.value.message) == (503, "the server is shutting down")
        answer = httpx.post(f"{running.url}/v1/vocode", content=npy_bytes(GOOD),
                            headers={"Content-Type": "application/x-npy"})
        assert answer.status_code == 503 and answer.json() == {"error": "the server is shutting down"}
        running.state.draining = False  # lets the block's end stop it


def test_bad_query_and_content_type(served):
    running, vocoder = served
    response = httpx.post(f"{running.url}/v1/vocode?format=mp3", content=npy_bytes(GOOD))
    assert response.status_code == 400
    assert response.json() == {"error": "unknown format 'mp3' (choose from wav, f32, f64)"}
    response = httpx.post(f"{running.url}/v1/vocode", content=npy_bytes(GOOD), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and "application/x-npy" in response.json()["error"]
    _still_serving(running.url, vocoder)


@pytest.mark.parametrize("name", [n for n in BAD_BODIES if n != "too long"])
def test_a_bad_stream_message_is_refused_naming_it(served, name):
    running, vocoder = served
    body, status, words = BAD_BODIES[name]
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream([GOOD[:, :10], body])
    assert caught.value.status == status and words in caught.value.message and "message 1" in caught.value.message
    _still_serving(running.url, vocoder)


@pytest.mark.parametrize(("messages", "status", "words"), [
    ([GOOD] * 6 + [GOOD[:, :21]], 413, "the stream is over the limit of 200 frames"),
    ([GOOD, "stop"], 400, "text message 'stop': the only text message is 'end'"),
])
def test_stream_limits_and_text(served, messages, status, words):
    running, vocoder = served
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream(messages)
    assert caught.value.status == status and words in caught.value.message, caught.value
    _still_serving(running.url, vocoder)


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
    _still_serving(running.url, vocoder)


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
    reads it, with 1009 (message too big); it counts as 413, not as a client gone (499)."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="WS /v1/stream",status="%s"}'
    before = {s: _count(running.url, route % s) for s in ("413", "499")}
    with pytest.raises(ServeError) as caught:
        Client(running.url).stream([np.zeros((16, 1000), np.float32)])  # 64 kB against a limit of 2 x 20000
    assert caught.value.status == 1009
    deadline = time.monotonic() + 5
    while _count(running.url, route % "413") == before["413"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _count(running.url, route % "413") == before["413"] + 1
    assert _count(running.url, route % "499") == before["499"]
    _still_serving(running.url, vocoder)


def test_a_client_gone_while_sending_its_body_counts_as_499(served):
    running, vocoder = served
    route = 'hifigan_requests_total{route="POST /v1/vocode",status="499"}'
    before = _count(running.url, route)
    body = npy_bytes(GOOD)
    host, port = running.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:1000])
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while _count(running.url, route) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _count(running.url, route) == before + 1
    _still_serving(running.url, vocoder)


def test_media_types_are_case_insensitive_and_unknown_paths_share_one_metric(served):
    running, vocoder = served
    response = httpx.post(f"{running.url}/v1/vocode?format=f32", content=npy_bytes(GOOD),
                          headers={"Content-Type": "Application/X-NPY; charset=binary"})
    assert response.status_code == 200
    assert np.array_equal(np.frombuffer(response.content, "<f4"), vocoder(GOOD).numpy())
    for path in ("/scan-1", "/scan-2", "/admin/login.php"):
        assert httpx.get(running.url + path).status_code == 404
    page = httpx.get(f"{running.url}/metrics").text
    assert "/scan-" not in page and "login.php" not in page
    assert metric(page, 'hifigan_requests_total{route="GET (no such route)",status="404"}') >= 3


def test_a_trailing_slash_is_no_such_route_not_a_redirect(served):
    """/v1/vocode/ is a path the server does not have: 404 with the JSON error, counted under '(no such route)', not
    Starlette's empty 307 redirect that no metric counts."""
    running, _ = served
    route = 'hifigan_requests_total{route="%s (no such route)",status="404"}'
    before = {m: _count(running.url, route % m) for m in ("POST", "GET")}
    for method, path in (("POST", "/v1/vocode/"), ("GET", "/healthz/")):
        response = httpx.request(method, running.url + path, content=npy_bytes(GOOD) if method == "POST" else None,
                                 headers={"Content-Type": "application/x-npy"})
        assert response.status_code == 404 and response.headers["content-type"] == "application/json", response
        assert response.json() == {"error": "Not Found"}
        assert _count(running.url, route % method) == before[method] + 1


def _count(url: str, name: str) -> float:
    try:
        return metric(httpx.get(f"{url}/metrics").text, name)
    except KeyError:
        return 0.0


def test_a_body_that_stops_arriving_is_408_after_the_idle_timeout(served):
    """A body that stops arriving does not hold its connection for ever: --idle-timeout (0.5 s) without a byte of
    it is a 408 with the JSON error, logged and counted like any refusal, and the connection is closed."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="POST /v1/vocode",status="408"}'
    before = _count(running.url, route)
    started = time.monotonic()
    status, headers, body = answer(stalled_request(running.url), timeout=10)
    assert 0.4 < time.monotonic() - started < 5
    assert status == 408 and headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json.loads(body) == {"error": "the body stopped arriving: no bytes for 0.5 s after 3 (--idle-timeout)"}
    assert _count(running.url, route) == before + 1
    assert running.state.in_flight == 0 and running.state.receiving == 0
    _still_serving(running.url, vocoder)


def test_a_drain_waits_for_a_request_whose_body_is_still_arriving():
    """A request still receiving its body is in flight: a drain (SIGTERM) waits for it, here until --idle-timeout
    answers it 408, and then stops at once."""
    cfg = tiny_config()
    torch.manual_seed(0)
    with running_server(Vocoder(Generator(cfg), cfg), ServeOptions(idle_timeout_s=1.0)) as running:
        sock = stalled_request(running.url)
        deadline = time.monotonic() + 5
        while running.state.in_flight == 0:
            assert time.monotonic() < deadline, "the request is not counted in flight while its body arrives"
            time.sleep(0.01)
        running.server.drain()
        time.sleep(0.3)
        assert not running.server.should_exit  # still waiting for that request
        status, _, body = answer(sock, timeout=10)
        assert status == 408 and "stopped arriving" in json.loads(body)["error"]


def test_a_request_cut_off_by_the_drain_timeout_is_503_not_a_traceback():
    """--drain-timeout (0.2 s) ends before a stalled body's --idle-timeout (30 s): the request is cut off at
    shutdown, answered 503 with the JSON error and counted, not a plain-text 500 from uvicorn with a traceback."""
    cfg = tiny_config()
    torch.manual_seed(0)
    with running_server(Vocoder(Generator(cfg), cfg), ServeOptions(drain_timeout_s=0.2)) as running:
        sock = stalled_request(running.url)
        deadline = time.monotonic() + 5
        while running.state.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        running.server.drain()
        status, headers, body = answer(sock, timeout=20)  # uvicorn's graceful shutdown waits 5 s, then cancels
    assert status == 503 and headers["content-type"] == "application/json", (status, body)
    assert json.loads(body) == {"error": "the server stopped before the request was answered (--drain-timeout)"}
    page = running.state.metrics.text()[0].decode()
    assert metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="503"}') == 1


def test_a_batch_axis_of_one_is_taken_alike_in_a_body_and_a_stream_message(served):
    """[1, 16, T] is accepted as [16, T] by the one shape check of a body and a stream message (codec.decode_mel),
    and the errors, /openapi.json and docs/serving.md say both shapes for both."""
    running, vocoder = served
    expected = vocoder(GOOD).numpy()
    response = httpx.post(f"{running.url}/v1/vocode?format=f32", content=npy_bytes(GOOD[None]),
                          headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 200 and np.array_equal(np.frombuffer(response.content, "<f4"), expected)
    streamed = Client(running.url).stream([GOOD[None, :, :10], GOOD[:, 10:]], "f32").audio
    assert np.abs(streamed - expected).max() < 1e-5
    spec = httpx.get(f"{running.url}/openapi.json").json()["paths"]
    assert SHAPES in spec["/v1/vocode"]["post"]["requestBody"]["description"]
    assert SHAPES.replace("T", "n") in spec["/v1/stream"]["get"]["description"]
    doc = " ".join((REPO / "docs" / "serving.md").read_text().split())
    assert "a `.npy` of float32 `[num_mels, n]` (or `[1, num_mels, n]`), n >= 1" in doc
    assert "a shape other than `[num_mels, T]` or `[1, num_mels, T]` with T >= 1 (a body and a stream message" in doc


def test_no_content_type_is_octet_stream_and_curls_default_is_415(served):
    """A request without a Content-Type is taken as application/octet-stream (RFC 9110 allows it), which is served;
    curl --data-binary's default, application/x-www-form-urlencoded, is another content type: 415. docs/serving.md
    and /openapi.json say so."""
    running, vocoder = served
    body = npy_bytes(GOOD)
    with httpx.Client() as http:
        bare = http.build_request("POST", f"{running.url}/v1/vocode?format=f32", content=body)
        assert "content-type" not in bare.headers  # httpx sends none for raw bytes
        response = http.send(bare)
    assert response.status_code == 200 and np.array_equal(np.frombuffer(response.content, "<f4"), vocoder(GOOD).numpy())
    form = httpx.post(f"{running.url}/v1/vocode", content=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert form.json() == {"error": "content type 'application/x-www-form-urlencoded': send the bytes of a .npy file "
                                    "as application/x-npy"}
    spec = httpx.get(f"{running.url}/openapi.json").json()["paths"]["/v1/vocode"]["post"]["requestBody"]
    assert set(spec["content"]) == {"application/x-npy", "application/octet-stream"}
    doc = " ".join((REPO / "docs" / "serving.md").read_text().split())
    assert "another content type (415; none at all is taken as `application/octet-stream`)" in doc
