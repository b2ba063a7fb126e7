"""The Starlette app of API v1: its routes (the probes /livez and /readyz, and /healthz the same as /readyz;
/v1/info, /metrics and /openapi.json here; POST /v1/vocode in vocoding.py, WebSocket /v1/stream in streams.py) and
its lifespan. Every error is a 4xx/5xx with {"error": "..."} (error_answers.py); every request is logged in one
line."""

from __future__ import annotations

from hifigan.inference.vocoder import Vocoder
from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.error_answers import http_error, no_such_route, not_ready, retry_after, websocket_only
from hifigan.serve.identity import ModelIdentity
from hifigan.serve.limits import ServeOptions, fitted_as_set
from hifigan.serve.monitoring import Metrics
from hifigan.serve.openapi import openapi
from hifigan.serve.vocoding import vocode

optional_import("starlette", "hifigan serve")
from starlette.applications import Starlette  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402


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


async def readyz(request: Request) -> Response:
    """Readiness, at /readyz (the name Kubernetes' probes use) and /healthz (its name before, which the client
    polls): 200 {"status": "ok"} while it takes work; 503 with Retry-After while the model loads or the server shuts
    down; 503 {"status": "failed", "error"} (no Retry-After) once the batcher stopped on an error."""
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
    state = request.app.state.serve
    return not_ready(request) or JSONResponse(openapi(state.info(), state.model_mel))


def build_app(vocoder: Vocoder | None, name: str, options: ServeOptions, debug: bool = False,
              identity: ModelIdentity | None = None) -> Starlette:
    """The app of the model `name`: `vocoder`, started with the app (its lifespan starts the scheduler's thread and,
    at shutdown, finishes its queue), or None: loading until `app.state.serve.ready(vocoder)` (server.Loader's).
    `debug`: a failure of the batcher is logged with its traceback. `identity`: the model's step and weights' hash,
    which /v1/info says (serve.identity.model_identity of the generator as loaded, before a Vocoder is built on it;
    None: both null). With `vocoder`, `options`' max_frames and max_message_bytes are fitted to its mels as `hifigan
    serve`'s are (serve.limits.fitted_as_set: the one not set follows the other, or a HifiganError); without, the
    caller fits them (the CLI does, from the checkpoint's config)."""
    from contextlib import asynccontextmanager

    from hifigan.serve.streams import stream

    if vocoder is not None:
        options = fitted_as_set(options, vocoder.config.num_mels)
    metrics_ = Metrics(options.max_batch)
    metrics_.named(name, identity or ModelIdentity())
    state = ServeState(name, options, metrics_, debug=debug, identity=identity or ModelIdentity())
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
        Route("/livez", livez), Route("/readyz", readyz), Route("/healthz", readyz), Route("/v1/info", info),
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
