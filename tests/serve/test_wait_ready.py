"""The client and a server whose model is still loading: `wait_ready` returns once /healthz says 200, a vocode or a
stream made during the load is answered once the model is ready (as when the request waited in the socket's
backlog), a wait that runs out raises NotReadyError naming the URL and the last answer, and a draining server is
reported at once."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient, Client, NotReadyError, ServeError
from tests.support.serve import Running, metric, running_server, silent_stream, split
from tests.support.serve_inputs import GOOD
from tests.support.tiny import tiny_config

HELD = 0.3  # how long the model's load is held once the server listens


@contextmanager
def loading_server(release_after: float | None = HELD, refused: str | None = None) -> Iterator[Running]:
    """A server whose (tiny, real) model load waits for a gate, released from a timer thread `release_after` s after
    the server listens (None: held until the block ends), or, with `refused`, once that route has answered a 503:
    a loaded machine may send the first request after any fixed hold."""
    cfg = tiny_config()
    gate = threading.Event()

    def load() -> Vocoder:
        assert gate.wait(10), "never released"
        torch.manual_seed(0)
        return Vocoder(Generator(cfg), cfg)

    def release_once_refused(running: Running) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not gate.is_set():
            with contextlib.suppress(KeyError):
                if refusals(running, refused) >= 1:
                    break
            time.sleep(0.01)
        gate.set()

    with running_server(None, load=load) as running:
        if refused is not None:
            timer = threading.Thread(target=release_once_refused, args=(running,), daemon=True)
        else:
            timer = threading.Timer(release_after, gate.set) if release_after is not None else None
        if timer is not None:
            timer.start()
        try:
            yield running
        finally:
            gate.set()
            if isinstance(timer, threading.Timer):
                timer.cancel()


def refusals(running: Running, route: str) -> float:
    """How many 503s `route` answered: the call made during the load was refused once, then made again."""
    return metric(running.state.metrics.text()[0].decode(), f'hifigan_requests_total{{route="{route}",status="503"}}')


def test_wait_ready_returns_once_the_model_is_loaded():
    with loading_server() as running:
        assert running.state.status == "loading"
        started = time.monotonic()
        Client(running.url).wait_ready(5)
        # the load (held HELD s, then the tiny model's build: 1.6 s on a loaded machine) and one Retry-After (1 s):
        # well before the 5 s that a wait ignoring the 200 would take
        assert running.state.status == "ok" and HELD * 0.9 <= time.monotonic() - started < 4


def test_a_vocode_and_a_stream_made_during_the_load_are_answered_once_it_is_ready():
    with loading_server(refused="POST /v1/vocode") as running:
        whole = Client(running.url).vocode(GOOD, "f32")  # refused 503 at first: waits, then sent again
        expected = running.state.vocoder(GOOD).numpy()
        assert np.array_equal(whole, expected)
        assert refusals(running, "POST /v1/vocode") == 1
    with loading_server(refused="WS /v1/stream") as running:
        async def acoustic_model():  # read once, slow: the pieces sent before the refusal are sent again, and the
            for piece in split(GOOD, [7, 7, 7]):  # piece it is computing when the refusal comes is not cancelled
                await asyncio.sleep(0.05)
                yield piece

        async def go():
            async with AsyncClient(running.url) as client:
                return await client.stream(acoustic_model(), fmt="f32")

        streamed = asyncio.run(go())
        expected = running.state.vocoder(GOOD).numpy()
        assert streamed.audio.shape == expected.shape and np.abs(streamed.audio - expected).max() <= 1e-5
        assert refusals(running, "WS /v1/stream") == 1


def test_a_wait_that_runs_out_names_the_url_and_the_last_answer():
    with loading_server(release_after=None) as running:
        started = time.monotonic()
        with pytest.raises(NotReadyError) as caught:
            Client(running.url, ready_timeout=0.3).vocode(GOOD)
        assert 0.3 <= time.monotonic() - started < 1.5
        assert (caught.value.status, caught.value.message) == (
            503, f'{running.url} was not ready within 0.3 s: /healthz last answered 503 {{"status":"loading"}}')
        with pytest.raises(ServeError) as refused:  # 0: the 503 at once, as the server says it
            Client(running.url, ready_timeout=0).vocode(GOOD)
        assert type(refused.value) is ServeError and refused.value.status == 503

    with socket.socket() as unused:  # a port nothing listens on: connection refused, tolerated until the timeout
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(NotReadyError) as caught:
            Client(url).wait_ready(0.3)
        assert 0.3 <= time.monotonic() - started < 1.5
        assert caught.value.status == 0
        assert caught.value.message.startswith(f"{url} was not ready within 0.3 s: /healthz last answered nothing "
                                               "(ConnectError"), caught.value.message


def test_a_server_not_reached_is_a_serve_error_naming_the_url_and_the_reason():
    """vocode, info and stream to a port nothing listens on raise ServeError with status 0 (nothing answered) and the
    system's reason, at once (ready_timeout waits for a loading server, not for one that is not there), where vocode
    and info raised httpx.ConnectError('All connection attempts failed') and stream an OSError of its own."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
        for call in (lambda c: c.vocode(GOOD), lambda c: c.info(), lambda c: c.stream([GOOD])):
            started = time.monotonic()
            with pytest.raises(ServeError) as caught:
                call(Client(url))
            assert time.monotonic() - started < 5
            assert (type(caught.value), caught.value.status, caught.value.message) == (
                ServeError, 0, f"could not connect to {url}: Connection refused")


def test_a_connection_lost_before_the_answer_is_a_serve_error_naming_the_url():
    """A server whose process goes away mid-request (here a listening socket that reads the request, then closes):
    vocode and info raise ServeError with status 0 naming the URL, where they raised httpx.RemoteProtocolError
    ('Server disconnected without sending a response.'), which names neither the server nor the call."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        def hang_up() -> None:
            for _ in range(2):
                peer, _ = listener.accept()
                with peer:  # all of the request read first: closed with data unread, the kernel would reset it
                    peer.settimeout(0.3)
                    with contextlib.suppress(TimeoutError):
                        while peer.recv(65536):
                            pass

        closer = threading.Thread(target=hang_up, daemon=True)
        closer.start()
        for call in (lambda c: c.vocode(GOOD), lambda c: c.info()):
            with pytest.raises(ServeError) as caught:
                call(Client(url))
            assert (type(caught.value), caught.value.status, caught.value.message) == (
                ServeError, 0, f"the connection to {url} was lost before its answer came (Server disconnected "
                               "without sending a response)")
        closer.join(5)


def test_no_answer_within_the_timeout_is_a_serve_error_naming_it():
    """A server that takes the request and answers nothing (a model far slower than the client's timeout): vocode
    raises ServeError with status 0 naming the URL and the timeout, where it raised an httpx.ReadTimeout with no
    message."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(ServeError) as caught:
            Client(url, timeout=0.3).vocode(GOOD)  # the kernel accepts the connection: the listener never answers
        assert (type(caught.value), caught.value.status, caught.value.message) == (
            ServeError, 0, f"no answer from {url} within 0.3 s (the client's timeout: Client(url, timeout=...))")


def test_a_draining_server_is_reported_at_once():
    with loading_server(release_after=0) as running:
        Client(running.url).wait_ready(5)

        async def drained():  # a silent stream keeps the drain (and the server) going while the client asks
            async with silent_stream(running), AsyncClient(running.url) as client:
                running.server.drain()
                started = time.monotonic()
                with pytest.raises(NotReadyError) as waited:
                    await client.wait_ready(5)
                with pytest.raises(ServeError) as vocoded:
                    await client.vocode(GOOD)
                with pytest.raises(ServeError) as streamed:
                    await client.stream([GOOD])
                return time.monotonic() - started, waited.value, vocoded.value, streamed.value

        elapsed, waited, vocoded, streamed = asyncio.run(drained())
        assert elapsed < 1
        assert (waited.status, waited.message) == (
            503, f'{running.url} will not become ready: /healthz answered 503 {{"status":"draining"}}')
        assert (vocoded.status, vocoded.message) == (streamed.status, streamed.message) == (
            503, "the server is shutting down")


@contextmanager
def gateway_without_upstream() -> Iterator[tuple[str, list[str]]]:
    """A proxy whose upstream is down: every request a 502 in plain text, its Retry-After an HTTP date (which the
    client cannot wait on); the URL and the paths asked, in order."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []

    class Gateway(BaseHTTPRequestHandler):
        def answer(self) -> None:
            asked.append(self.path)
            body = b"upstream down\n"
            self.send_response(502)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Gateway) as gateway:
        thread = threading.Thread(target=gateway.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{gateway.server_address[1]}", asked
        finally:
            gateway.shutdown()


def test_a_gateway_in_front_of_no_server_is_waited_out_then_its_text_is_the_error():
    """A 502 is waited out like a server still loading (at the usual pace: an HTTP-date Retry-After is not a number of
    seconds) until the timeout names it; a request it refuses is a ServeError of its status and its text."""
    with gateway_without_upstream() as (url, asked):
        started = time.monotonic()
        with pytest.raises(NotReadyError) as caught:
            Client(url).wait_ready(0.3)
        assert 0.3 <= time.monotonic() - started < 1.5 and len(asked) >= 3  # every 0.1 s (POLL_S)
        assert (caught.value.status, caught.value.message) == (
            502, f"{url} was not ready within 0.3 s: /healthz last answered 502 upstream down")
        asked.clear()
        with pytest.raises(ServeError) as refused:
            Client(url).vocode(GOOD)
        said = (type(refused.value), refused.value.status, refused.value.message)
        assert said == (ServeError, 502, "upstream down")  # not JSON: the body as text, as /healthz's is said
        assert asked == ["/v1/vocode?format=wav"]
