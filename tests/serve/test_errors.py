"""Bad input over HTTP gets a 4xx and {"error": "..."} naming the problem, and the server goes on serving: bad bodies,
queries and content types, unknown paths, bodies that stop arriving or are cut off by a drain (streams:
test_stream_errors.py)."""

from __future__ import annotations

import gzip
import json
import socket
import time

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import Client, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.files import REPO
from tests.support.serve import answer, metric, running_server, stalled_request
from tests.support.serve_inputs import BAD_BODIES, GOOD, SHAPES, count, limited_server, still_serving
from tests.support.tiny import tiny_config


@pytest.fixture(scope="module")
def served():
    with limited_server() as served_:
        yield served_


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_bad_body_is_a_4xx_naming_the_problem(served, name):
    running, vocoder = served
    body, status, words = BAD_BODIES[name]
    response = httpx.post(f"{running.url}/v1/vocode", content=body, headers={"Content-Type": "application/x-npy"})
    assert response.status_code == status and response.headers["content-type"] == "application/json"
    assert words in response.json()["error"], response.json()
    still_serving(running.url, vocoder)



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



def test_a_body_over_the_byte_limit_is_counted_in_words(served):
    """The 413 says the bytes, announced (Content-Length) or found as a chunked body arrives. (The least limit is a
    mel of one frame, 192 bytes of 16 mels: a limit of 1 byte, whose count said '1 byte', is refused at start.)"""
    _, vocoder = served
    headers = {"Content-Type": "application/x-npy"}
    with running_server(vocoder, ServeOptions(max_message_bytes=192)) as running:
        for content, said in ((b"\0" * 193, "body of 193 bytes is over the limit of 192 (--max-message-bytes)"),
                              (iter([b"\0" * 96, b"\0" * 97]),
                               "body is over the limit of 192 bytes (--max-message-bytes)")):
            answer = httpx.post(f"{running.url}/v1/vocode", content=content, headers=headers)
            assert (answer.status_code, answer.json()["error"]) == (413, said)



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
    zipped = httpx.post(f"{running.url}/v1/vocode", content=gzip.compress(npy_bytes(GOOD)),
                        headers={"Content-Type": "application/x-npy", "Content-Encoding": "gzip"})
    assert (zipped.status_code, zipped.headers["accept-encoding"], zipped.json()) == (415, "identity", {
        "error": "content encoding 'gzip': send the .npy bytes as they are (no Content-Encoding)"})  # not "not .npy"
    still_serving(running.url, vocoder)



def test_a_client_gone_while_sending_its_body_counts_as_499(served):
    running, vocoder = served
    route = 'hifigan_requests_total{route="POST /v1/vocode",status="499"}'
    before = count(running.url, route)
    body = npy_bytes(GOOD)
    host, port = running.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:1000])
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while count(running.url, route) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(running.url, route) == before + 1
    still_serving(running.url, vocoder)



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



def test_invented_methods_share_one_metric(served):
    """A method is any token a client sends: a scanner trying SCAN1, SCAN2, ... on a path (ours or not) makes no
    series per method (each would be kept for the life of the server), but counts under one '(other method)'."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="(other method) %s",status="%d"}'
    before = {path: count(running.url, route % path) for path in (("(no such route)", 404), ("/healthz", 405))}
    for k in range(3):
        assert httpx.request(f"SCAN{k}", running.url + "/nothing").status_code == 404
        answered = httpx.request(f"SCAN{k}", running.url + "/healthz")
        assert answered.status_code == 405 and answered.json() == {
            "error": f"Method Not Allowed: SCAN{k} /healthz (it takes {answered.headers['allow']})"}
    page = httpx.get(f"{running.url}/metrics").text
    assert "SCAN" not in page
    assert {path: count(running.url, route % path) for path in before} == {path: n + 3 for path, n in before.items()}
    still_serving(running.url, vocoder)



def test_a_trailing_slash_is_no_such_route_not_a_redirect(served):
    """/v1/vocode/ is a path the server does not have: 404 with the JSON error, counted under '(no such route)', not
    Starlette's empty 307 redirect that no metric counts."""
    running, _ = served
    route = 'hifigan_requests_total{route="%s (no such route)",status="404"}'
    before = {m: count(running.url, route % m) for m in ("POST", "GET")}
    for method, path in (("POST", "/v1/vocode/"), ("GET", "/healthz/")):
        response = httpx.request(method, running.url + path, content=npy_bytes(GOOD) if method == "POST" else None,
                                 headers={"Content-Type": "application/x-npy"})
        assert response.status_code == 404 and response.headers["content-type"] == "application/json", response
        assert response.json()["error"].startswith(f"Not Found: {path} (the routes are /livez, ")  # the slash shows
        assert count(running.url, route % method) == before[method] + 1



def test_a_body_that_stops_arriving_is_408_after_the_idle_timeout(served):
    """A body that stops arriving does not hold its connection for ever: --idle-timeout (0.5 s) without a byte of
    it is a 408 with the JSON error, logged and counted like any refusal, and the connection is closed."""
    running, vocoder = served
    route = 'hifigan_requests_total{route="POST /v1/vocode",status="408"}'
    before = count(running.url, route)
    started = time.monotonic()
    status, headers, body = answer(stalled_request(running.url), timeout=10)
    assert 0.4 < time.monotonic() - started < 5
    assert status == 408 and headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json.loads(body) == {"error": "the body stopped arriving: no bytes for 0.5 s after 3 (--idle-timeout)"}
    assert count(running.url, route) == before + 1
    assert running.state.in_flight == 0 and running.state.receiving == 0
    still_serving(running.url, vocoder)



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
        status, headers, body = answer(sock, timeout=20)
        cut_off_after = time.monotonic() - running.server.drain_started
    assert cut_off_after < 2, cut_off_after  # the drain's 0.2 s, not then uvicorn's graceful shutdown's 5 s as well
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


@pytest.mark.parametrize(("query", "kind", "status"), [("", "application/x-npy", 413), ("", "text/plain", 415),
                                                        ("?format=mp3", "application/x-npy", 400)])
def test_a_request_refused_before_its_body_is_read_closes_its_connection(served, query, kind, status):
    """A refusal before the body (an announced 1 GB body over --max-message-bytes, a wrong content type or format)
    closes the connection: kept alive, uvicorn would read and drop the whole announced body first."""
    running, vocoder = served
    host, port = running.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST /v1/vocode{query} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n"
                 f"Content-Length: {1 << 30}\r\n\r\n".encode() + b"\0" * 100)
    got, headers, body = answer(sock, timeout=5)  # to the server's end of stream: kept open, a timeout here
    assert (got, headers["connection"]) == (status, "close") and "error" in json.loads(body)
    still_serving(running.url, vocoder)
