"""The Python client of API v1 (httpx for HTTP, websockets for streams): `AsyncClient` for many concurrent requests
(the tests, benchmarks/serve_load.py), `Client` for a script. Mels are float32 [num_mels, T] arrays."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hifigan.runtime.extras import optional_import
from hifigan.serve.codec import CLOSED_BY, NPY_TYPE, SAMPLE_TYPES, STREAM_FORMATS, VOCODE_FORMATS, npy_bytes
from hifigan.serve.limits import DEFAULT_HOST, DEFAULT_PORT
from hifigan.serve.readiness import READY_TIMEOUT_S, NotReadyError, Replay, ServeError, loading, wait_ready

httpx = optional_import("httpx", "the hifigan serve client")
websockets = optional_import("websockets", "the hifigan serve client")
from websockets.asyncio.client import connect  # noqa: E402

__all__ = ["AsyncClient", "Client", "NotReadyError", "ServeError", "StreamResult", "decode_audio"]
URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"  # a `hifigan serve` started without --host and --port


@dataclass
class StreamResult:
    """A stream's audio chunks as they arrived, and when (seconds after the first message was sent); `dtype`: their
    samples' (the stream's format: int16 for pcm16)."""

    chunks: list[np.ndarray] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    seconds: float = 0.0
    dtype: np.dtype = field(default_factory=lambda: np.dtype(SAMPLE_TYPES[STREAM_FORMATS[0]]))

    @property
    def audio(self) -> np.ndarray:
        """The chunks end to end; a stream with no audio (no mel sent) gives no samples of the same dtype."""
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, self.dtype)

    @property
    def first_audio_s(self) -> float | None:
        return self.arrivals[0] if self.arrivals else None


def decode_audio(body: bytes, fmt: str) -> np.ndarray:
    """A /v1/vocode answer as samples: int16 for wav, float32 for f32, float64 for f64."""
    if fmt == "wav":
        import soundfile as sf

        return sf.read(io.BytesIO(body), dtype="int16")[0]
    return np.frombuffer(body, dtype=SAMPLE_TYPES[fmt]).copy()


def _refusal(status: int, body: bytes) -> ServeError:
    """A refusal's ServeError: the status and the {"error"} message of its body (else the body as text, less the
    white space around it: a proxy's page ends in a newline)."""
    try:
        message = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        message = body.decode("utf-8", "replace").strip()
    return ServeError(status, message)


def _unreachable(url: str, error: OSError | httpx.TransportError) -> ServeError:
    """A server not reached at `url`: ServeError with status 0 (nothing answered, as NotReadyError says it) and the
    reason the system gave (the last OSError behind `error`: httpx's own words are 'All connection attempts
    failed')."""
    reason, cause = str(error) or type(error).__name__, error
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno:
            reason = os.strerror(cause.errno) if cause.errno > 0 else cause.strerror or reason  # < 0: a resolver's
        cause = cause.__cause__ or cause.__context__
    return ServeError(0, f"could not connect to {url}: {reason}")


def _error(response: httpx.Response) -> ServeError:
    return _refusal(response.status_code, response.content)


SENT_AGAIN = ": the stream may be sent again, from its first chunk"  # what a stream cut off by no fault of its own is
LOST = 1006  # RFC 6455's abnormal closure: what a client reads when the connection ended without a close frame


def _closed(code: int | None, error: str | None) -> ServeError:
    """A stream's close other than 1000: 4000 + a status after the server's text error, or a close code of the
    server's side (CLOSED_BY: a drain's end, 1012, names it and says the stream may be sent again), or the connection
    lost with no close (LOST: a network, a proxy, the server's process gone; it may be sent again too), or another."""
    if code in CLOSED_BY:
        status, why = CLOSED_BY[code]
        return ServeError(status, why + (SENT_AGAIN if code == 1012 else ""))
    if code == LOST and error is None:
        return ServeError(LOST, f"the connection to the server was lost before the stream ended (closed {LOST}: no "
                                f"close frame came){SENT_AGAIN}")
    return ServeError(code - 4000 if code is not None and code >= 4000 else (code or 0), error or f"closed with {code}")


class AsyncClient:
    """`async with AsyncClient("http://127.0.0.1:8000") as client: audio = await client.vocode(mel)`. A call refused
    because the model is still loading waits until it is ready (at most `ready_timeout` s; 0: raise the 503 at once)
    and is made again."""

    def __init__(self, url: str = URL, timeout: float = 120.0, ready_timeout: float = READY_TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.ws_url = "ws" + self.url.removeprefix("http")
        self.timeout, self.ready_timeout = timeout, ready_timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP connection pool, made on first use (a client that only streams needs none)."""
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.url, timeout=self.timeout,
                                           limits=httpx.Limits(max_connections=256))
        return self._http

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Return once /healthz answers 200 (the model is loaded), waiting out a server still starting or loading;
        NotReadyError after `timeout` s (naming the URL and the last answer), or at once if it is shutting down."""
        await wait_ready(self.http, self.url, timeout)

    async def _answered(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """The 200 of `send()`, made again once the model is ready if it was refused as loading (a 503 with
        Retry-After, which the server gives only then); any other refusal, or no connection, one lost before the
        answer, or no answer within `timeout`, raises ServeError."""
        try:
            response = await send()
            if response.status_code == 503 and "retry-after" in response.headers and self.ready_timeout > 0:
                await self.wait_ready(self.ready_timeout)
                response = await send()
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise _unreachable(self.url, e) from None
        except httpx.TimeoutException:  # httpx's ReadTimeout has no message: it said neither the server nor the limit
            raise ServeError(0, f"no answer from {self.url} within {self.timeout:g} s (the client's timeout: "
                                "Client(url, timeout=...))") from None
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as e:  # the server's process gone
            said = str(e).rstrip(".") or type(e).__name__
            raise ServeError(0, f"the connection to {self.url} was lost before its answer came ({said})") from None
        if response.status_code != 200:
            raise _error(response)
        return response

    async def info(self) -> dict:
        return (await self._answered(lambda: self.http.get("/v1/info"))).json()

    async def vocode(self, mel: np.ndarray | bytes, fmt: str = VOCODE_FORMATS[0]) -> np.ndarray:
        """POST /v1/vocode: the audio of a mel (or of the bytes of a .npy file)."""
        body = mel if isinstance(mel, bytes) else npy_bytes(mel)
        response = await self._answered(lambda: self.http.post("/v1/vocode", content=body, params={"format": fmt},
                                                               headers={"Content-Type": NPY_TYPE}))
        return decode_audio(response.content, fmt)

    async def stream(self, chunks: Iterable[np.ndarray | bytes | str] | AsyncIterable[np.ndarray | bytes | str],
                     fmt: str = STREAM_FORMATS[0], end: bool = True) -> StreamResult:
        """WebSocket /v1/stream: send each chunk (a mel, or raw bytes/text to test the server), then 'end'; the
        audio chunks received until the server closes. A refusal raises ServeError; an error of `chunks` itself (the
        caller's acoustic model) closes the stream and is raised as it is. A stream refused because the model is
        loading (4503, /healthz "loading") is sent again from its first chunk once it is ready: the chunks taken are
        kept until the server's first audio shows it is ready, and let go as they are sent from then on."""
        if self.ready_timeout <= 0:
            return await self._stream(chunks, fmt, end)
        replay = Replay(chunks)
        try:
            try:
                return await self._stream(replay, fmt, end, replay.release)
            except ServeError as refused:
                if refused.status != 503 or replay.released or not await loading(self.http):
                    raise
            await self.wait_ready(self.ready_timeout)
            return await self._stream(replay, fmt, end, replay.release)
        finally:
            replay.close()

    async def _stream(self, chunks: Iterable[np.ndarray | bytes | str] | AsyncIterable[np.ndarray | bytes | str],
                      fmt: str, end: bool, answered: Callable[[], None] | None = None) -> StreamResult:
        """One try of `stream`; `answered` is called at the first audio chunk (the server is ready)."""
        # another format keeps the default's dtype: the server answers it 4400
        result = StreamResult(dtype=np.dtype(SAMPLE_TYPES[fmt])) if fmt in SAMPLE_TYPES else StreamResult()
        try:
            ws = await connect(f"{self.ws_url}/v1/stream?format={fmt}", max_size=None)
        except websockets.exceptions.InvalidStatus as e:  # refused before the upgrade (--max-connections, a proxy)
            raise _refusal(e.response.status_code, e.response.body or b"") from None
        except OSError as e:  # refused, unresolved, timed out
            raise _unreachable(self.url, e) from None
        async with ws:
            started = time.monotonic()
            failed: list[Exception] = []  # the error of `chunks` (the caller's code), raised after the close

            async def send() -> None:
                try:
                    if hasattr(chunks, "__aiter__"):
                        async for chunk in chunks:  # type: ignore[union-attr]
                            await ws.send(chunk if isinstance(chunk, bytes | str) else npy_bytes(chunk))
                    else:
                        for chunk in chunks:  # type: ignore[union-attr]
                            await ws.send(chunk if isinstance(chunk, bytes | str) else npy_bytes(chunk))
                except websockets.exceptions.ConnectionClosed:  # the server closed: the receiving side says why
                    return
                except Exception as e:  # the source failed: close now, not after the server's idle timeout
                    failed.append(e)
                    await ws.close(1001, "the client's mel source failed")
                    return
                if end:
                    await ws.send("end")

            sender = asyncio.create_task(send())
            error = None
            try:
                while True:
                    message = await ws.recv()
                    if isinstance(message, str):
                        error = json.loads(message).get("error", message)
                        continue
                    if not result.chunks and answered is not None:
                        answered()
                    result.chunks.append(np.frombuffer(message, dtype=SAMPLE_TYPES[fmt]).copy())
                    result.arrivals.append(time.monotonic() - started)
            except websockets.exceptions.ConnectionClosed:
                pass
            finally:
                if not sender.done():
                    sender.cancel()
            result.seconds = time.monotonic() - started
            code = ws.close_code
            if failed:
                raise failed[0]  # the caller's own error, not the close it caused
        if code != 1000:
            raise _closed(code, error)
        return result


class Client:
    """The same calls without asyncio: `Client(url).vocode(mel)`, `Client(url).stream(chunks).audio`."""

    def __init__(self, url: str = URL, timeout: float = 120.0, ready_timeout: float = READY_TIMEOUT_S) -> None:
        self.url, self.timeout, self.ready_timeout = url, timeout, ready_timeout

    def _run(self, call: Callable[[AsyncClient], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with AsyncClient(self.url, self.timeout, self.ready_timeout) as client:
                return await call(client)

        return asyncio.run(go())

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        self._run(lambda c: c.wait_ready(timeout))

    def info(self) -> dict:
        return self._run(lambda c: c.info())

    def vocode(self, mel: np.ndarray | bytes, fmt: str = VOCODE_FORMATS[0]) -> np.ndarray:
        return self._run(lambda c: c.vocode(mel, fmt))

    def stream(self, chunks: Iterable[np.ndarray], fmt: str = STREAM_FORMATS[0]) -> StreamResult:
        return self._run(lambda c: c.stream(chunks, fmt))
