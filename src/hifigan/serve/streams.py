"""WebSocket /v1/stream: .npy mel messages in, PCM chunks out as soon as the receptive field allows. The ready frames
(`StreamCursor`) go to the shared scheduler as one window at a time per stream; a slow reader stops its own reading
(backpressure) instead of the server buffering audio."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time

import torch

from hifigan.inference.streaming import StreamCursor
from hifigan.messages.plural import count
from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.codec import CLOSED_BY, STREAM_FORMATS, RequestError, chosen_format, decode_mel, encode_audio
from hifigan.serve.connections import CUT
from hifigan.serve.limits import option
from hifigan.serve.log_lines import line, took
from hifigan.serve.scheduler import SchedulerFailed

optional_import("starlette", "hifigan serve")
from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

log = logging.getLogger("hifigan.serve")
ROUTE = "WS /v1/stream"
LATE_LOOKS = 5  # event-loop turns (each reads what the socket holds) for a message after 'end' before closing


class _Gone(Exception):
    """The connection closed: the client went away, or (CLOSED_BY) the WebSocket layer closed it."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__(code)
        self.code = code


async def stream(websocket: WebSocket) -> None:
    state = websocket.app.state.serve
    started = time.monotonic()
    fmt, bad_query = STREAM_FORMATS[0], None
    try:
        fmt = chosen_format(websocket.query_params.multi_items(), STREAM_FORMATS)
    except RequestError as e:
        bad_query = e
    await websocket.accept()
    refusal = state.refusal()  # the model is loading, or the server shutting down: 503
    if refusal is None and state.streams >= state.options.max_streams:
        refusal = RequestError(429, f"too many streams: {state.streams} open, the limit is "
                                    f"{state.options.max_streams} ({option('max_streams')})")
    elif refusal is None:
        refusal = bad_query
    if refusal is not None:
        await _close_with_error(websocket, state, refusal, started)
        return
    state.streams += 1
    state.in_flight += 1
    session = _Session(websocket, state, fmt)
    state.sessions.add(session)
    try:
        await session.run()
        state.metrics.answered(ROUTE, 200)
        log.info(line(route=ROUTE, status=1000, frames=session.cursor.frames, messages=session.cursor.chunks,
                      audio=f"{session.samples / state.sampling_rate:.2f}s", format=fmt, duration=took(started)))
    except RequestError as e:
        await _close_with_error(websocket, state, e, started)
    except (_Gone, WebSocketDisconnect) as e:
        _ended(session, *CLOSED_BY.get(e.code, (499, websocket.scope.get(CUT, "client went away"))), started)
    except asyncio.CancelledError:
        # Only uvicorn's shutdown cancels a stream: --drain-timeout (and then server.CUT_OFF_GRACE_S) ran out while it
        # was held back by a client that does not read, so it never read the 1012 queued for it. A 503 like the
        # others the drain cuts off, not a traceback.
        _ended(session, *CLOSED_BY[1012], started)
    finally:
        session.abandon()
        state.sessions.discard(session)
        state.streams -= 1
        state.in_flight -= 1


def _ended(session: _Session, status: int, why: str, started: float) -> None:
    """A stream that ended before it was answered whole, and not for its input: counted as `status`, logged why as
    every error is (error=...), with the frames that came."""
    session.state.metrics.answered(ROUTE, status)
    log.info(line(route=ROUTE, status=status, error=why, frames=session.cursor.frames, duration=took(started)))


async def _close_with_error(websocket: WebSocket, state: ServeState, error: RequestError, started: float) -> None:
    """Send {"error": ...} as text, then close with 4000 + the HTTP status (one of codec.STREAM_ERRORS)."""
    state.metrics.answered(ROUTE, error.status)
    log.info(line(route=ROUTE, status=error.status, error=error.message, duration=took(started)))
    try:
        await websocket.send_text(json.dumps({"error": error.message}))
        await websocket.close(4000 + error.status, error.message.encode()[:120].decode(errors="ignore"))
    except Exception:  # the client is gone already: nothing to tell
        pass


class _Session:
    """One stream. At most one window is in flight (queued, computed or being sent); frames that arrive meanwhile
    gather in the cursor and leave as one wider window when it is sent (under load, fewer and wider windows: less
    recomputed context). Beyond `stream_backlog` gathered frames the stream stops reading its client (backpressure)."""

    def __init__(self, websocket: WebSocket, state: ServeState, fmt: str) -> None:
        self.ws, self.state, self.fmt = websocket, state, fmt
        vocoder = state.vocoder
        self.cursor = StreamCursor(vocoder.receptive_field, vocoder.config.num_mels, dtype=vocoder.io_dtype)
        self.pending: asyncio.Queue = asyncio.Queue()  # the window in flight's future, then None at the end
        self.in_flight = False
        self.ended = False  # 'end' received
        self.progress = asyncio.Event()  # set when a window's audio has been sent
        self.samples = 0
        self.first_message: float | None = None
        self.sender: asyncio.Task | None = None
        self.failure: RequestError | None = None  # why the stream stopped early (the model or its batcher failed)
        self.gone = False  # the sending side found the client gone
        self.waited = 0.0  # seconds spent waiting for the client's messages (--stream-timeout bounds them)

    async def run(self) -> None:
        self.sender = asyncio.create_task(self._send_all())
        await self._receive_all()
        self.ended = True
        self._pump()
        # The last chunks go out while a message after `end` is still refused. No idle timeout from here on: the
        # client has said all it will, and computing what is left may take longer than --idle-timeout.
        late = asyncio.create_task(self._receive(timeout=False))
        await asyncio.wait({self.sender, late}, return_when=asyncio.FIRST_COMPLETED)
        for _ in range(LATE_LOOKS):  # a message that followed 'end' closely is refused, not dropped with the close
            if late.done():
                break
            await asyncio.sleep(0)
        # All audio sent, and the client then hung up without waiting for our close: that stream is complete.
        hung_up = late.done() and self.sender.done() and isinstance(late.exception(), _Gone)
        if not late.done() or hung_up:
            late.cancel()
            self._check()
            self.state.metrics.latency.labels(ROUTE).observe(time.monotonic() - (self.first_message or 0))
            if not hung_up:
                await self.ws.close(1000)
            return
        late.result()  # a disconnect before the audio was all sent raises here
        raise RequestError(400, "a message after 'end'")

    async def _receive(self, timeout: bool = True) -> dict:
        """The next message, within --idle-timeout and what is left of --stream-timeout (`timeout`: after 'end',
        neither: the client has nothing more to send)."""
        idle_s, total_s = self.state.options.idle_timeout_s, self.state.options.stream_timeout_s
        wait = min(idle_s, total_s - self.waited)
        started = time.monotonic()
        try:
            message = await self._receive_or_failure(wait if timeout and wait != math.inf else None)
        except TimeoutError:
            if wait < idle_s:
                raise RequestError(408, f"the stream did not end within {total_s:g} s of waiting for its messages: "
                                        f"{count(self.cursor.frames, 'frame')} in "
                                        f"{count(self.cursor.chunks, 'message')} came "
                                        f"({option('stream_timeout_s')})") from None
            raise RequestError(408, f"no message for {idle_s:g} s ({option('idle_timeout_s')})") from None
        finally:
            if timeout:
                self.waited += time.monotonic() - started
        if message["type"] == "websocket.disconnect":
            raise _Gone(message.get("code"))
        return message

    async def _receive_or_failure(self, wait: float | None) -> dict:
        """The client's next message within `wait` seconds (None: no bound; else TimeoutError). Before 'end', the
        sending side ending first (a window failed, the batcher stopped, the client went away) raises its reason at
        once (`_check`), rather than at the client's next message or the idle timeout."""
        if self.ended or self.sender is None:
            return await asyncio.wait_for(self.ws.receive(), wait)
        receiving = asyncio.ensure_future(self.ws.receive())
        try:
            await asyncio.wait({receiving, self.sender}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not receiving.done():
                receiving.cancel()
                await asyncio.wait({receiving})
        if not receiving.cancelled():
            return receiving.result()  # a message that came with the failure is read; the caller then sees it
        self._check()
        raise TimeoutError

    async def _receive_all(self) -> None:
        options, num_mels = self.state.options, self.state.vocoder.config.num_mels
        while True:
            message = await self._receive()
            if self.first_message is None:
                self.first_message = time.monotonic()
            text, data = message.get("text"), message.get("bytes") or b""
            what, size = f"message {self.cursor.chunks}", len(data) if text is None else len(text.encode())
            if size > options.max_message_bytes:  # text or binary: the limit is on every message
                raise RequestError(413, f"{what} is {count(size, 'byte')}, over the limit of "
                                        f"{options.max_message_bytes} ({option('max_message_bytes')})")
            if text is not None:
                if text == "end":
                    return
                raise RequestError(400, f"text message {text[:40]!r}: the only text message is 'end'")
            mel = decode_mel(data, num_mels, options.max_frames, what)
            if self.cursor.frames + mel.shape[1] > options.max_frames:
                raise RequestError(413, f"the stream is over the limit of {count(options.max_frames, 'frame')} "
                                        f"({option('max_frames')})")
            self.cursor.add(torch.from_numpy(mel))
            self._pump()
            if self.failure is not None:  # a window failed, or the batcher stopped: no more audio will come
                raise self.failure
            while self.cursor.ready > options.stream_backlog:  # a slow reader: stop reading until audio leaves
                self.progress.clear()
                progress = asyncio.ensure_future(self.progress.wait())
                try:
                    await asyncio.wait({progress, self.sender}, return_when=asyncio.FIRST_COMPLETED)
                finally:  # the sending side ended first (the client went away): the wait would be left pending
                    progress.cancel()
                self._check()

    def _check(self) -> None:
        if self.gone:
            raise _Gone()
        if self.failure is not None:
            raise self.failure
        if self.sender is not None and self.sender.done() and not self.ended:
            raise _Gone()

    def _pump(self) -> None:
        """Unless a window is in flight: hand the ready frames (all of them after 'end') to the scheduler, or tell
        the sending side that nothing more will come."""
        if self.in_flight or self.gone or self.failure is not None:
            return
        window = self.cursor.finish() if self.ended else self.cursor.take()
        if window is not None:
            mel, start, stop = window
            try:
                job = self.state.scheduler.submit(mel, start, stop, self)
            except SchedulerFailed as e:  # the batcher stopped since the stream opened: the sending side ends
                self.failure = RequestError(503, str(e))
                self.pending.put_nowait(None)
                return
            self.pending.put_nowait(asyncio.wrap_future(job))
            self.in_flight = True
        elif self.ended:
            self.pending.put_nowait(None)

    async def _send_all(self) -> None:
        while (future := await self.pending.get()) is not None:
            try:
                audio = (await future).numpy()
            except SchedulerFailed as e:  # the batcher stopped: the server vocodes nothing more
                self.failure = RequestError(503, str(e))
                return
            except Exception as e:  # the model failed: the stream ends with a server error
                self.failure = RequestError(500, f"vocoding failed: {type(e).__name__}: {e}")
                return
            try:
                await self.ws.send_bytes(encode_audio(audio, self.fmt, self.state.sampling_rate))
            except Exception:  # the client went away: the receiving side is told through self.gone
                self.gone = True
                return
            if self.samples == 0:
                self.state.metrics.first_audio.labels(ROUTE).observe(time.monotonic() - (self.first_message or 0))
            self.samples += audio.shape[0]
            self.state.metrics.audio_seconds.inc(audio.shape[0] / self.state.sampling_rate)
            self.in_flight = False
            self._pump()
            self.progress.set()

    def abandon(self) -> None:
        """Free what the stream holds: its queued window and its sending task."""
        self.state.scheduler.cancel(self)
        if self.sender is not None and not self.sender.done():
            self.sender.cancel()
        while not self.pending.empty():
            future = self.pending.get_nowait()
            if future is not None:
                future.cancel()
