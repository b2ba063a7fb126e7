"""API v1's one query parameter, `format`: another name, or `format` given twice, is a 400 naming it (a stream: the
error, then 4400), where the server took the last value and ignored the rest."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hifigan.serve.codec import npy_bytes
from tests.support.serve_inputs import GOOD, limited_server

TWICE = "query parameter 'format' given 2 times (f32, {}): give it once"


@pytest.fixture(scope="module")
def served():
    with limited_server() as served_:
        yield served_


@pytest.mark.parametrize(("query", "said"), [
    ("format=f32&format=wav", TWICE.format("wav")),
    ("format=f32&format=f32", TWICE.format("f32")),
    ("fromat=f32", "unknown query parameter 'fromat' (the only one is format: wav, f32, f64)"),
    ("format=f32&rate=16000", "unknown query parameter 'rate' (the only one is format: wav, f32, f64)"),
])
def test_a_request_with_a_bad_query_is_refused_naming_it(served, query, said):
    running, _ = served
    answer = httpx.post(f"{running.url}/v1/vocode?{query}", content=npy_bytes(GOOD))
    assert (answer.status_code, answer.json()) == (400, {"error": said})


def test_a_request_with_one_format_is_served_in_it(served):
    running, vocoder = served
    answer = httpx.post(f"{running.url}/v1/vocode?format=f64", content=npy_bytes(GOOD))
    assert answer.status_code == 200
    assert np.frombuffer(answer.content, "<f8").size == GOOD.shape[1] * vocoder.config.hop_size


@pytest.mark.parametrize(("query", "said"), [
    ("format=f32&format=pcm16", TWICE.format("pcm16")),
    ("fromat=f32", "unknown query parameter 'fromat' (the only one is format: pcm16, f32, f64)"),
])
def test_a_stream_with_a_bad_query_is_refused_naming_it(served, query, said):
    running, _ = served
    with connect(f"{running.url.replace('http', 'ws')}/v1/stream?{query}") as ws:
        assert json.loads(ws.recv(timeout=10)) == {"error": said}
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4400
    closes = httpx.get(f"{running.url}/openapi.json").json()["paths"]["/v1/stream"]["get"]["description"]
    assert "4400: a message that is not a mel the model takes, a text message other than 'end', a message after " \
           "'end', or a bad query (a parameter other than format, format twice, an unknown format)" in closes
