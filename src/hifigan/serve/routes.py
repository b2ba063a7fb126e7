"""The Starlette app of API v1: /livez, /healthz, /v1/info, POST /v1/vocode, WebSocket /v1/stream (streams.py), /metrics
and /openapi.json. Every error is a 4xx/5xx with {"error": "..."}; every request is logged in one line."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future

import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.messages.plural import count
from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.codec import NPY_TYPE, RequestError, chosen_format, decode_mel, encode_audio
from hifigan.serve.limits import ServeOptions
from hifigan.serve.monitoring import Metrics
from hifigan.serve.openapi import openapi
from hifigan.serve.scheduler import SchedulerFailed

starlette = optional_import("starlette", "hifigan serve")
from starlette.applications import Starlette  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.requests import ClientDisconnect, Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402

log = logging.getLogger("hifigan.serve")
AUDIO_TYPES = {"wav": "audio/wav", "f32": "application/octet-stream", "f64": "application/octet-stream"}
# The methods of RFC 9110 and PATCH, each a metric label of its own; any other token a client invents counts as one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"})
RETRY_AFTER_S = 1  # what a 503 while the model loads (and /healthz's while it drains) says to wait: Retry-After


def error_response(state: ServeState, route: str, status: int, message: str, started: float,
                   close: bool = False, headers: dict[str, str] | None = None) -> Response:
    """{"error": message} with `status` (and `headers`), counted and logged; `close`: and the connection is closed
    after it (the body was not read to its end, so the connection cannot carry another request). A 503 while the
    model loads says Retry-After."""
    state.metrics.answered(route, status)
    log.info("%s %d error=%r %.1fms", route, status, message, 1000 * (time.monotonic() - started))
    headers = dict(headers or {})
    if close:
        headers["Connection"] = "close"
    if status == 503 and state.status == "loading":
        headers.update(retry_after())
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def retry_after() -> dict[str, str]:
    """The Retry-After header (RETRY_AFTER_S) of a work route's 503 while the model loads, and of /healthz's 503
    then and while the server drains (a load balancer's next poll)."""
    return {"Retry-After": str(RETRY_AFTER_S)}


def not_ready(request: Request) -> Response | None:
    """The 503 of a route that needs the model while it loads (None once it is ready)."""
    state: ServeState = request.app.state.serve
    if state.scheduler is not None:
        return None
    error = state.refusal()
    return error_response(state, f"{request.method} {request.url.path}", 503, error.message, time.monotonic())


async def read_body(request: Request, options: ServeOptions) -> bytes:
    """The body, refused with 413 beyond --max-message-bytes (before reading it when Content-Length says so), and
    with 408 when none of it arrives for --idle-timeout or all of it has not arrived within --body-timeout (a body
    that stops arriving, or trickles in a byte just inside each idle timeout, would hold its connection for ever)."""
    limit, idle_s, total_s = options.max_message_bytes, options.idle_timeout_s, options.body_timeout_s
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {count(int(declared), 'byte')} is over the limit of {limit} "
                                "(--max-message-bytes)")
    chunks, size = [], 0
    pieces = request.stream()
    deadline = time.monotonic() + total_s
    while True:
        wait = min(idle_s, max(deadline - time.monotonic(), 0.0))
        try:
            async with asyncio.timeout(wait):
                chunk = await anext(pieces, None)
        except TimeoutError:
            if wait < idle_s:
                raise RequestError(408, f"the body did not arrive within {total_s:g} s: {count(size, 'byte')} came "
                                        "(--body-timeout)") from None
            raise RequestError(408, f"the body stopped arriving: no bytes for {idle_s:g} s after {size} "
                                    "(--idle-timeout)") from None
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"body is over the limit of {count(limit, 'byte')} (--max-message-bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


async def answer_unless_gone(request: Request, job: Future) -> torch.Tensor:
    """The audio of the scheduler's `job`, or ClientDisconnect as soon as the client hangs up while it waits (a
    front-end that timed out: its mel leaves the queue and the request counts as 499, not as audio served)."""
    result = asyncio.wrap_future(job)
    gone = asyncio.ensure_future(disconnected(request))
    try:
        await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not result.done():
        result.cancel()
        raise ClientDisconnect()
    return result.result()


async def disconnected(request: Request) -> None:
    """Returns once the client of a request whose body was read has hung up (the ASGI http.disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def vocode(request: Request) -> Response:
    state: ServeState = request.app.state.serve
    route, started = "POST /v1/vocode", time.monotonic()
    if (refused := state.refusal()) is not None:  # loading, or shutting down
        return error_response(state, route, refused.status, refused.message, started)
    # In flight from here, while its body arrives too: a drain waits for it (bounded by --body-timeout).
    # `receiving` keeps the scheduler from waiting for a mel that has not arrived.
    state.in_flight += 1
    state.receiving += 1
    owner, body = object(), None
    try:
        try:
            fmt = chosen_format(request.query_params.multi_items(), AUDIO_TYPES, "wav")
            # RFC 9110: media types in any case, and none at all may be taken as application/octet-stream (the body
            # is checked for the .npy magic anyway), as docs/serving.md says.
            kind = request.headers.get("content-type", "application/octet-stream").partition(";")[0].strip().lower()
            if kind not in (NPY_TYPE, "application/octet-stream"):
                raise RequestError(415, f"content type {kind!r}: send the bytes of a .npy file as {NPY_TYPE}")
            # A compressed body is not decoded: refused by its coding (RFC 9110: 415 with Accept-Encoding), where its
            # bytes would be "not a .npy file". The .npy bytes are sent as they are.
            coding = request.headers.get("content-encoding", "identity").strip().lower()
            if coding not in ("identity", ""):
                raise RequestError(415, f"content encoding {coding!r}: send the .npy bytes as they are (no "
                                        "Content-Encoding)", headers={"Accept-Encoding": "identity"})
            body = await read_body(request, state.options)
            mel = decode_mel(body, state.vocoder.config.num_mels, state.options.max_frames)
        except RequestError as e:  # refused before its body was read whole (413, 408, 415, a bad format): closed,
            # else uvicorn would read and drop the rest of an announced body, however large, to keep the connection
            return error_response(state, route, e.status, e.message, started, close=body is None, headers=e.headers)
        except ClientDisconnect:  # hung up while sending its body: nobody to answer, but counted and logged
            return error_response(state, route, 499, "client went away while sending its body", started)
        finally:
            state.receiving -= 1
        try:
            audio = await answer_unless_gone(request, state.scheduler.submit(torch.from_numpy(mel), 0, mel.shape[1],
                                                                              owner))
        except ClientDisconnect:  # hung up while its mel waited or was vocoded: its queued work is dropped
            state.scheduler.cancel(owner)
            return error_response(state, route, 499, "client went away before its audio was ready", started)
        except SchedulerFailed as e:  # the batcher stopped while (or before) this mel waited: the server is broken
            return error_response(state, route, 503, str(e), started)
        except Exception as e:  # the model failed: a server error, and the server goes on
            return error_response(state, route, 500, f"vocoding failed: {type(e).__name__}: {e}", started)
    except asyncio.CancelledError:
        # Only uvicorn's shutdown cancels a request: --drain-timeout (and then server.CUT_OFF_GRACE_S) ran out
        # before it was answered. A 503 like a stream cut off by the drain, not a traceback and a plain-text 500.
        state.scheduler.cancel(owner)
        return error_response(state, route, 503, "the server stopped before the request was answered "
                                                 "(--drain-timeout)", started, close=True)
    finally:
        state.in_flight -= 1
    body = encode_audio(audio.numpy(), fmt, state.sampling_rate)
    seconds = audio.shape[0] / state.sampling_rate
    elapsed = time.monotonic() - started
    state.metrics.answered(route, 200)
    state.metrics.audio_seconds.inc(seconds)
    state.metrics.first_audio.labels(route).observe(elapsed)
    state.metrics.latency.labels(route).observe(elapsed)
    log.info("%s 200 frames=%d audio=%.2fs format=%s %.1fms", route, mel.shape[1], seconds, fmt, 1000 * elapsed)
    return Response(body, media_type=AUDIO_TYPES[fmt], headers={"X-Sampling-Rate": str(state.sampling_rate)})


async def websocket_only(request: Request) -> Response:
    """GET /v1/stream without the WebSocket upgrade (curl, or a proxy that does not pass Upgrade and Connection on):
    426 with Upgrade (RFC 9110) saying so, where Starlette would answer the 404 of a path the server does not have."""
    return error_response(request.app.state.serve, f"{request.method} /v1/stream", 426,
                          "/v1/stream is a WebSocket: open it with a WebSocket client (ws://), and have a proxy in "
                          "front pass the Upgrade and Connection headers on", time.monotonic(),
                          headers={"Upgrade": "websocket"})


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (404, 405) as JSON errors too, with their headers (a 405's Allow, which RFC 9110
    requires). Metrics label an unknown path as one route, and an unknown method as one method, so that a scanner's
    many paths or methods do not make a series each."""
    status = getattr(exc, "status_code", 500)
    method = request.method if request.method in METHODS else "(other method)"
    route = f"{method} {request.url.path if status != 404 else '(no such route)'}"
    return error_response(request.app.state.serve, route, status, getattr(exc, "detail", str(exc)), time.monotonic(),
                          headers=getattr(exc, "headers", None))


def no_such_route(not_found: ASGIApp) -> ASGIApp:
    """The router's answer for a path it does not have: a WebSocket's is the HTTP 404 {"error": ...} (naming the
    stream route) before the upgrade, counted and logged like the others, where Starlette closes it unanswered
    (uvicorn's bare 403, which no metric counts); an HTTP request's is `not_found`'s (http_error's 404)."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or "websocket.http.response" not in scope.get("extensions", {}):
            return await not_found(scope, receive, send)
        response = error_response(scope["app"].state.serve, "WS (no such route)", 404,
                                  "Not Found: the WebSocket route is /v1/stream", time.monotonic())
        await WebSocket(scope, receive, send).send_denial_response(response)

    return answer


def failed(state: ServeState) -> Response | None:
    """The probes' 503 once the batcher stopped on an error (it will not recover: restart the process), or None."""
    if state.failure is None:
        return None
    return JSONResponse({"status": "failed", "error": state.failure}, status_code=503)


async def livez(request: Request) -> Response:
    """Liveness: 200 as soon as the server listens, whatever it is doing ({"status": "loading", "ok", "draining"});
    503 {"status": "failed", "error"} once the batcher stopped on an error."""
    state: ServeState = request.app.state.serve
    return failed(state) or JSONResponse({"status": state.status})


async def healthz(request: Request) -> Response:
    """Readiness: 200 {"status": "ok"} while it takes work; 503 with Retry-After while the model loads or the server
    shuts down; 503 {"status": "failed", "error"} (no Retry-After) once the batcher stopped on an error."""
    state: ServeState = request.app.state.serve
    if (broken := failed(state)) is not None:
        return broken
    if state.status == "ok":
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": state.status}, status_code=503, headers=retry_after())


async def info(request: Request) -> Response:
    return not_ready(request) or JSONResponse(request.app.state.serve.info())


async def metrics(request: Request) -> Response:
    text, kind = request.app.state.serve.metrics.text()
    return Response(text, media_type=kind)


async def openapi_json(request: Request) -> Response:
    return not_ready(request) or JSONResponse(openapi(request.app.state.serve.info()))


def build_app(vocoder: Vocoder | None, name: str, options: ServeOptions, debug: bool = False) -> Starlette:
    """The app of the model `name`: `vocoder`, started with the app (its lifespan starts the scheduler's thread and,
    at shutdown, finishes its queue), or None: loading until `app.state.serve.ready(vocoder)` (server.Loader's).
    `debug`: a failure of the batcher is logged with its traceback."""
    from contextlib import asynccontextmanager

    from hifigan.serve.streams import stream

    metrics_ = Metrics(options.max_batch)
    state = ServeState(name, options, metrics_, debug=debug)
    metrics_.queue_depth.set_function(lambda: state.scheduler.depth if state.scheduler is not None else 0)
    metrics_.active_streams.set_function(lambda: state.streams)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        if vocoder is not None:
            state.ready(vocoder)
        yield
        state.closed = True  # a model still loading is not started after this
        if state.scheduler is not None:
            state.scheduler.close()

    app = Starlette(routes=[
        Route("/livez", livez), Route("/healthz", healthz), Route("/v1/info", info),
        Route("/v1/vocode", vocode, methods=["POST"]),
        WebSocketRoute("/v1/stream", stream), Route("/v1/stream", websocket_only),
        Route("/metrics", metrics), Route("/openapi.json", openapi_json),
    ], lifespan=lifespan, exception_handlers={HTTPException: http_error})
    # No redirect from /v1/vocode/ to /v1/vocode (Starlette's default, an empty 307 that no metric counts): a path
    # the server does not have is a 404 {"error": ...} under the route "(no such route)", as docs/serving.md says.
    app.router.redirect_slashes = False
    app.router.default = no_such_route(app.router.default)
    app.state.serve = state
    return app
