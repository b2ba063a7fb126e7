"""A model that fails: an error of one batch is that batch's 500 and the server goes on; an error that stops the
batcher's thread (here a BaseException from the generator's forward) fails the mels it held and queued, and every
later request, with a 503 naming it, while /healthz and /livez say 'failed' and the log says why in one line (before,
every request waited for ever and /healthz said ok)."""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.serve.client import AsyncClient, Client, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.scheduler import Scheduler, SchedulerFailed
from tests.support.istft_generator import IstftGenerator
from tests.support.serve import running_server
from tests.support.serve_log import fields
from tests.support.tiny import tiny_config

NPY = {"Content-Type": "application/x-npy"}
FATAL, WRONG = 250, 150  # mels of these many frames make the forward raise Fatal, or an ordinary ValueError


STARTED, GATE = threading.Event(), threading.Event()


class Fatal(BaseException):
    """Not an Exception: what a model's `except Exception` does not catch (as KeyboardInterrupt or SystemExit)."""


class Failing(IstftGenerator):
    """A generator whose forward raises for long inputs: `Fatal` from FATAL frames on (once GATE opens, having said
    it STARTED), a ValueError from WRONG frames on. (Module-level events: the Vocoder deep-copies its generator.)"""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.shape[-1] >= FATAL:
            STARTED.set()
            GATE.wait(10)
            raise Fatal("planted")
        if mel.shape[-1] >= WRONG:
            raise ValueError("an ordinary model error")
        return super().forward(mel)


@pytest.fixture
def failing() -> Vocoder:
    cfg = tiny_config()
    torch.manual_seed(0)
    STARTED.clear()
    GATE.set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no layer description: the module runs eagerly, as a fork's would
        return Vocoder(Failing(cfg), cfg)


def frames(n: int) -> np.ndarray:
    return np.full((tiny_config().num_mels, n), -4.0, dtype=np.float32)


def post(url: str, n: int) -> httpx.Response:
    return httpx.post(f"{url}/v1/vocode", content=npy_bytes(frames(n)), headers=NPY, timeout=10)


def described(url: str, path: str, method: str, answer: httpx.Response) -> None:
    """Asserts that /openapi.json lists `answer` for that route: its status, and its JSON body's keys (and "status"
    value) in that answer's schema."""
    responses = httpx.get(f"{url}/openapi.json").json()["paths"][path][method]["responses"]
    assert str(answer.status_code) in responses, (path, answer.status_code)
    schema, body = responses[str(answer.status_code)]["content"]["application/json"]["schema"], answer.json()
    assert set(schema["required"]) <= set(body) <= set(schema["properties"]), (path, body)
    if "status" in body:
        assert body["status"] in schema["properties"]["status"]["enum"], (path, body)


def test_a_stopped_batcher_fails_what_it_held_and_queued_and_refuses_more(failing):
    """The batch running and the mel queued behind it get SchedulerFailed naming the error; a later submit raises
    it; the owner is told once."""
    told = []
    scheduler = Scheduler(failing, max_batch=1, max_batch_delay_ms=0, on_failure=told.append).start()
    GATE.clear()
    held = scheduler.submit(torch.from_numpy(frames(FATAL)), 0, FATAL, "a")
    assert STARTED.wait(10)
    queued = scheduler.submit(torch.from_numpy(frames(20)), 0, 20, "b")
    GATE.set()
    for future in (held, queued):
        with pytest.raises(SchedulerFailed, match=r"^the server's batcher stopped on Fatal: planted; it vocodes"):
            future.result(10)
    assert [type(e) for e in told] == [Fatal]
    with pytest.raises(SchedulerFailed, match="Fatal: planted"):
        scheduler.submit(torch.from_numpy(frames(20)), 0, 20, "c")
    scheduler.close()  # returns at once: the thread is gone


def test_a_model_error_is_a_500_and_the_server_goes_on(failing):
    with running_server(failing) as running:
        answer = post(running.url, WRONG)
        assert (answer.status_code, answer.json()) == (500, {
            "error": "vocoding failed: ValueError: an ordinary model error"})
        described(running.url, "/v1/vocode", "post", answer)  # where /openapi.json listed no 500
        with pytest.raises(ServeError) as caught:
            Client(running.url, ready_timeout=0).stream([frames(20), frames(WRONG)])
        assert (caught.value.status, caught.value.message) == (500, "vocoding failed: ValueError: an ordinary model "
                                                                    "error")
        assert post(running.url, 20).status_code == 200
        assert httpx.get(f"{running.url}/healthz").json() == {"status": "ok"}


def test_a_stopped_batcher_is_a_503_for_every_request_and_healthz_says_why(failing, caplog):
    said = "the server's batcher stopped on Fatal: planted; it vocodes nothing more until it is restarted"
    with caplog.at_level(logging.INFO, logger="hifigan.serve"), running_server(failing) as running:
        assert post(running.url, 20).status_code == 200
        for n in (FATAL, 20):  # the one that stopped it, then one after
            answer = post(running.url, n)
            assert (answer.status_code, answer.json()) == (503, {"error": said})
            assert "retry-after" not in answer.headers  # this server will not take it again
            described(running.url, "/v1/vocode", "post", answer)
        for probe in ("/readyz", "/healthz", "/livez"):
            answer = httpx.get(running.url + probe)
            assert (answer.status_code, answer.json()) == (503, {"status": "failed", "error": said})
            described(running.url, probe, "get", answer)  # where /openapi.json said neither 'failed' nor its error
        with pytest.raises(ServeError) as caught:
            Client(running.url, ready_timeout=0).stream([frames(20)])
        assert (caught.value.status, caught.value.message) == (503, said)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [fields(r.getMessage()) for r in errors] == [{
        "event": "batcher-stopped", "error": "Fatal: planted", "msg": "every request is now answered 503 and /readyz "
        "and /livez say 'failed': restart the server (--debug logs the traceback)"}]
    assert errors[0].exc_info is None


def test_a_stream_open_when_the_batcher_stops_is_closed_with_its_503(failing, caplog):
    """A stream whose window the failure ends is closed 4503 with the reason (before: it waited for ever); with
    --debug the log line carries the traceback."""
    with caplog.at_level(logging.INFO, logger="hifigan.serve"), running_server(failing) as running:
        running.state.debug = True
        stream = AsyncClient(running.url, ready_timeout=0).stream([frames(20), frames(FATAL), frames(20)])
        with pytest.raises(ServeError) as caught:
            asyncio.run(asyncio.wait_for(stream, 10))
        assert caught.value.status == 503 and "batcher stopped on Fatal: planted" in caught.value.message
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info[0] is Fatal and "(--debug" not in errors[0].getMessage()


def test_a_window_that_fails_while_the_stream_waits_for_its_client_is_told_at_once(failing):
    """The client sent a window the model fails on and then waits (an acoustic model still at work): the server
    closes the stream 4500 with the model's error as soon as the window fails (before: only at the client's next
    message, or 4408 after --idle-timeout, here 30 s), and goes on serving."""
    async def held():
        yield frames(WRONG)
        await asyncio.Event().wait()  # no next message, no 'end'

    with running_server(failing) as running:
        stream = AsyncClient(running.url, ready_timeout=0).stream(held())
        with pytest.raises(ServeError) as caught:
            asyncio.run(asyncio.wait_for(stream, 5))
        assert (caught.value.status, caught.value.message) == (500, "vocoding failed: ValueError: an ordinary model "
                                                                    "error")
        assert Client(running.url, ready_timeout=0).stream([frames(20)]).audio.shape == (20 * 16,)
        assert running.state.streams == 0
