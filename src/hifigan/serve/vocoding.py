"""POST /v1/vocode: a whole .npy mel in (its body bounded in size and time), the audio of it out, in one of the
scheduler's batched passes; a client that hangs up meanwhile takes its mel out of the queue."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future

import torch

from hifigan.messages.plural import count
from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.codec import NPY_TYPE, VOCODE_FORMATS, RequestError, chosen_format, decode_mel, encode_audio
from hifigan.serve.error_answers import error_response
from hifigan.serve.limits import ServeOptions, option
from hifigan.serve.log_lines import line
from hifigan.serve.scheduler import SchedulerFailed

optional_import("starlette", "hifigan serve")
from starlette.requests import ClientDisconnect, Request  # noqa: E402
from starlette.responses import Response  # noqa: E402

log = logging.getLogger("hifigan.serve")
AUDIO_TYPES = {fmt: "audio/wav" if fmt == "wav" else "application/octet-stream" for fmt in VOCODE_FORMATS}


async def read_body(request: Request, options: ServeOptions) -> bytes:
    """The body, refused with 413 beyond --max-message-bytes (before reading it when Content-Length says so), and
    with 408 when none of it arrives for --idle-timeout or all of it has not arrived within --body-timeout (a body
    that stops arriving, or trickles in a byte just inside each idle timeout, would hold its connection for ever)."""
    limit, idle_s, total_s = options.max_message_bytes, options.idle_timeout_s, options.body_timeout_s
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {count(int(declared), 'byte')} is over the limit of {limit} "
                                f"({option('max_message_bytes')})")
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
                                        f"({option('body_timeout_s')})") from None
            raise RequestError(408, f"the body stopped arriving: no bytes for {idle_s:g} s after {size} "
                                    f"({option('idle_timeout_s')})") from None
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"body is over the limit of {count(limit, 'byte')} "
                                    f"({option('max_message_bytes')})")
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
            fmt = chosen_format(request.query_params.multi_items(), VOCODE_FORMATS)
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
                                                 f"({option('drain_timeout_s')})", started, close=True)
    finally:
        state.in_flight -= 1
    body = encode_audio(audio.numpy(), fmt, state.sampling_rate)
    seconds = audio.shape[0] / state.sampling_rate
    elapsed = time.monotonic() - started
    state.metrics.answered(route, 200)
    state.metrics.audio_seconds.inc(seconds)
    state.metrics.first_audio.labels(route).observe(elapsed)
    state.metrics.latency.labels(route).observe(elapsed)
    log.info(line(route=route, status=200, frames=mel.shape[1], audio=f"{seconds:.2f}s", format=fmt,
                  duration=f"{1000 * elapsed:.1f}ms"))
    return Response(body, media_type=AUDIO_TYPES[fmt], headers={"X-Sampling-Rate": str(state.sampling_rate)})
