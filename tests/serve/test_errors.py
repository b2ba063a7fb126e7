"""Bad input gets a 4xx and {"error": "..."} naming the problem, over HTTP and on a stream (the text error, then
close code 4000 + status), and the server goes on serving; streams that time out, exceed limits or come one too
many are refused the same way."""

from __future__ import annotations

import asyncio
import io

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient, Client, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.serve import running_server, silent_stream
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


BAD_BODIES = {  # name: (body, status, words the error holds)
    "not npy": (b"RIFF....WAVEfmt ", 400, "is not a .npy file"),
    "truncated npy": (_npy(GOOD)[:150], 400, "is not a readable .npy file"),
    "pickled object": (_npy(np.array([{}], dtype=object)), 400, "is not a readable .npy file"),
    "float64": (_npy(GOOD.astype(np.float64)), 400, "has dtype float64, expected float32"),
    "int16": (_npy(GOOD.astype(np.int16)), 400, "has dtype int16, expected float32"),
    "1-D": (_npy(GOOD[0]), 400, "has shape [30], expected [16, T]"),
    "batch of 2": (_npy(np.stack([GOOD, GOOD])), 400, "has shape [2, 16, 30], expected [16, T]"),
    "no frames": (_npy(GOOD[:, :0]), 400, "has shape [16, 0], expected [16, T] with T >= 1"),
    "15 mels": (_npy(GOOD[:15]), 400, "has 15 mel bins, the model expects 16"),
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
