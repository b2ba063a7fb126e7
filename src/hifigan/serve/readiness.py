"""Waiting for a server whose model is still loading (it listens at once and answers 503 until then): `wait_ready`
polls /healthz until 200; `Replay` keeps a stream's chunks until the server answers, so that a stream refused meanwhile
is sent again whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from hifigan.runtime.extras import optional_import

httpx = optional_import("httpx", "the hifigan serve client")

READY_TIMEOUT_S = 60.0  # how long the client waits, by default, for a model that loads (a compiled GPU backend: ~30 s)
POLL_S = 0.1  # how often /healthz is asked when its answer gives no Retry-After
WAIT_STATUSES = (502, 503, 504)  # a server still loading, or a proxy whose upstream is not up yet


class ServeError(Exception):
    """The server refused a request: its HTTP status (a stream's close code - 4000, or the status a close code of
    RFC 6455 counts as: codec.CLOSED_BY; 1006: the connection lost, client.LOST) and its {"error"} message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class NotReadyError(ServeError):
    """The server did not become ready: the wait timed out (status: the last one /healthz gave, 0 if none) or the
    server is shutting down (503 "draining")."""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(float(value), 0.0)
    except ValueError:  # absent, or an HTTP date: poll at the usual pace
        return None


def _health(response: httpx.Response) -> str | None:
    try:
        return response.json().get("status")
    except (ValueError, AttributeError):
        return None


async def wait_ready(http: httpx.AsyncClient, url: str, timeout: float) -> None:
    """Return once GET /healthz answers 200. A connection that fails (the server is still starting) and a 502/503/504
    are waited out, asking again after the answer's Retry-After (else POLL_S); NotReadyError after `timeout` s, or at
    once on a 503 "draining" or another status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    status, last = 0, "nothing (no connection)"
    while True:
        pause = POLL_S
        try:
            response = await http.get("/healthz", timeout=max(deadline - loop.time(), POLL_S))
        except httpx.TransportError as e:
            last = f"nothing ({type(e).__name__}: {e})" if str(e) else f"nothing ({type(e).__name__})"
        else:
            if response.status_code == 200:
                return
            status, last = response.status_code, f"{response.status_code} {response.text.strip()}"
            if status not in WAIT_STATUSES or _health(response) == "draining":
                raise NotReadyError(status, f"{url} will not become ready: /healthz answered {last}")
            pause = _retry_after(response) or POLL_S
        left = deadline - loop.time()
        if left <= 0:
            raise NotReadyError(status, f"{url} was not ready within {timeout:g} s: /healthz last answered {last}")
        await asyncio.sleep(min(pause, left))


async def loading(http: httpx.AsyncClient) -> bool:
    """Whether /healthz says the model is still loading (or ready by now): a 4503 stream was refused for that, not
    for a drain, and is worth sending again."""
    try:
        response = await http.get("/healthz")
    except httpx.TransportError:
        return False
    return response.status_code == 200 or _health(response) == "loading"


_END = object()


async def _async(chunks: Iterable[Any]) -> AsyncIterator[Any]:
    for chunk in chunks:
        yield chunk


class Replay:
    """A stream's chunks (an iterable or async iterable, read once) kept as they are taken, so that each iteration
    starts from the first chunk, until `release()` (the server answered: it is ready, and nothing will be sent again):
    from then on a chunk is let go once it is sent. A pull from the source is never cancelled half-way (an acoustic
    model's generator would end): a sender cancelled meanwhile leaves it to the next iteration."""

    def __init__(self, chunks: Iterable[Any] | AsyncIterable[Any]) -> None:
        self._source = aiter(chunks) if hasattr(chunks, "__aiter__") else _async(chunks)  # type: ignore[arg-type]
        self._taken: list[Any] = []  # the chunks from number `_first` on
        self._first = 0  # how many chunks were let go (sent after the release)
        self._next = 0  # the number of the chunk the iteration under way gives next
        self._pull: asyncio.Future | None = None
        self.released = False

    def __aiter__(self) -> AsyncIterator[Any]:
        if self._first:
            raise RuntimeError("a released Replay cannot start again: its first chunks are gone")
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        self._next = 0
        while True:
            if self._next - self._first < len(self._taken):
                chunk = self._taken[self._next - self._first]
            else:
                if self._pull is None:
                    self._pull = asyncio.ensure_future(anext(self._source, _END))
                chunk = await asyncio.shield(self._pull)
                self._pull = None
                if chunk is _END:
                    return
                self._taken.append(chunk)
            self._next += 1
            if self.released:
                self._let_go()
            yield chunk

    def release(self) -> None:
        """The server is ready (it answered): let go of the chunks sent, and of each one sent from here on; a chunk
        kept but not yet sent again (a replay under way) is still sent."""
        self.released = True
        self._let_go()

    def _let_go(self) -> None:
        del self._taken[: self._next - self._first]
        self._first = self._next

    def close(self) -> None:
        """Stop a pull still under way (the stream is over)."""
        if self._pull is not None and not self._pull.done():
            self._pull.cancel()
