"""How API v1 answers what it refuses: {"error": "..."} with a 4xx/5xx, counted and logged in one line
(error_response), for the routes' errors and for the router's own (404, 405; a WebSocket on a path the server does
not have; a plain GET of the stream route, 426)."""

from __future__ import annotations

import logging
import time

from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.log_lines import line, took

optional_import("starlette", "hifigan serve")
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402

log = logging.getLogger("hifigan.serve")
# The methods of RFC 9110 and PATCH, each a metric label of its own; any other token a client invents counts as one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"})
RETRY_AFTER_S = 1  # what a 503 while the model loads (and /healthz's while it drains) says to wait: Retry-After


def error_response(state: ServeState, route: str, status: int, message: str, started: float,
                   close: bool = False, headers: dict[str, str] | None = None) -> Response:
    """{"error": message} with `status` (and `headers`), counted and logged; `close`: and the connection is closed
    after it (the body was not read to its end, so the connection cannot carry another request). A 503 while the
    model loads says Retry-After."""
    state.metrics.answered(route, status)
    log.info(line(route=route, status=status, error=message, duration=took(started)))
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


async def websocket_only(request: Request) -> Response:
    """GET /v1/stream without the WebSocket upgrade (curl, or a proxy that does not pass Upgrade and Connection on):
    426 with Upgrade (RFC 9110) saying so, where Starlette would answer the 404 of a path the server does not have."""
    return error_response(request.app.state.serve, f"{request.method} /v1/stream", 426,
                          "/v1/stream is a WebSocket: open it with a WebSocket client (ws://), and have a proxy in "
                          "front pass the Upgrade and Connection headers on", time.monotonic(),
                          headers={"Upgrade": "websocket"})


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (404, 405) as JSON errors too, with their headers (a 405's Allow, which RFC 9110
    requires), each naming the path and what the server takes there (its routes; the Allow methods). Metrics label
    an unknown path as one route, and an unknown method as one method, so that a scanner's many paths or methods do
    not make a series each."""
    status, headers = getattr(exc, "status_code", 500), getattr(exc, "headers", None) or {}
    method = request.method if request.method in METHODS else "(other method)"
    route = f"{method} {request.url.path if status != 404 else '(no such route)'}"
    message, path = getattr(exc, "detail", str(exc)), _shown(request.url.path)
    if status == 404:  # the path as it came (a trailing slash shows), and the ones there are
        message += f": {path} (the routes are {', '.join(dict.fromkeys(r.path for r in request.app.routes))})"
    elif status == 405 and "Allow" in headers:
        message += f": {_shown(request.method)} {path} (it takes {headers['Allow']})"
    return error_response(request.app.state.serve, route, status, message, time.monotonic(), headers=headers)


def _shown(text: str, limit: int = 100) -> str:
    """A client's path or method as an error quotes it: a scanner's long one cut to `limit` characters."""
    return text if len(text) <= limit else text[:limit] + "..."


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
