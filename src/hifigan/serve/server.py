"""Running the app on uvicorn: bind, listen while the model loads (in a thread: /livez 200, /readyz and work 503),
log one line per request, and shut down gracefully. SIGTERM or SIGINT stop new work (503), let what is in flight
(requests and streams) finish, then exit 0; a second SIGINT exits at once."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from hifigan.errors import INTERRUPTED
from hifigan.messages.plural import count
from hifigan.runtime import sockets
from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.http_protocol import GuardedH11Protocol, QuietUvicorn
from hifigan.serve.limits import option
from hifigan.serve.log_lines import LineFormatter, event
from hifigan.serve.websocket_protocol import GuardedWebSocketProtocol

if TYPE_CHECKING:
    from hifigan.inference.vocoder import Vocoder

uvicorn = optional_import("uvicorn", "hifigan serve")

log = logging.getLogger("hifigan.serve")
# After --drain-timeout, how long uvicorn's shutdown lets the work still in flight run before it cancels it (then
# answered 503 / closed 1012): enough to send what a handler has just returned, not a second drain.
CUT_OFF_GRACE_S = 0.2
SEND_GRACE_S = 5  # once nothing is in flight, how long uvicorn's shutdown lets the answers being sent go on
UVICORN_CANCEL = "Cancel %s running task(s), timeout graceful shutdown exceeded"  # its line when either grace ran out


class CutOffSaid(logging.Filter):
    """uvicorn's UVICORN_CANCEL (at ERROR, in its own format among the server's lines) said as the server's line:
    what the shutdown cut off, and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != UVICORN_CANCEL:
            return True
        event("cutting-off", running=record.args[0],
              msg=f"cutting off {count(record.args[0], 'request or stream', 'requests or streams')} still running "
                  f"({option('drain_timeout_s')} ran out, or the {SEND_GRACE_S} s after the drain for answers being "
                  "sent)")
        return False


def protocols_for(state: ServeState) -> tuple[type[GuardedH11Protocol], type[GuardedWebSocketProtocol]]:
    """The protocol classes for uvicorn.Config(http=..., ws=...) of the server of `state`."""
    return (type("ServeProtocol", (GuardedH11Protocol,), {"state": state}),
            type("ServeWebSocketProtocol", (GuardedWebSocketProtocol,), {"state": state}))


class DrainingServer(uvicorn.Server):
    """uvicorn's server, but a signal first drains the app (`ServeState.draining`) and the process exits 0 (uvicorn
    itself would close open WebSockets with 1012 and re-raise the signal)."""

    def __init__(self, config: uvicorn.Config, state: ServeState) -> None:
        super().__init__(config)
        self.state = state
        self.drain_started: float | None = None

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # a server in a thread (tests): stopped by drain()
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: object) -> None:
        if self.drain_started is not None:
            if sig == signal.SIGINT:
                exit_now()
            return
        event("draining", signal=signal.Signals(sig).name, in_flight=self.state.in_flight,
              msg="finishing the requests and streams in flight, refusing new work")
        self.drain()

    def drain(self) -> None:
        """Refuse new work; stop once nothing is in flight (or after drain_timeout_s)."""
        self.state.draining = True
        self.drain_started = time.monotonic()

    async def on_tick(self, counter: int) -> bool:
        if self.drain_started is not None:
            if self.state.in_flight == 0:  # what is left is answers still being sent: SEND_GRACE_S for them
                return True
            if time.monotonic() - self.drain_started > self.state.options.drain_timeout_s:
                self.config.timeout_graceful_shutdown = CUT_OFF_GRACE_S  # the drain's time is up: no second wait
                return True
        return await super().on_tick(counter)


def bind(host: str, port: int) -> socket.socket:
    """The server's listening socket (port 0: a free one; see hifigan.runtime.sockets.bind for its one-line errors)."""
    sock = sockets.bind(host, port, backlog=2048)
    sock.set_inheritable(True)
    return sock


class StderrHandler(logging.StreamHandler):
    """Each line to sys.stderr as it is when the line is written: its own lines were printed so, and a caller that
    swaps stderr between two runs in one process (hifigan.cli.main's callers, pytest's capture) still gets them."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass  # StreamHandler's __init__ sets it: always sys.stderr


def configure_logging() -> None:
    """The server's lines on stderr, each the UTC time and logfmt fields: one per request (`route=`), and its own
    (`event=`) (serve.log_lines)."""
    if not log.handlers:
        handler = StderrHandler()
        handler.setFormatter(LineFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def make_server(app: object, state: ServeState, ws_max_size: int) -> DrainingServer:
    """uvicorn's server for `app`, its HTTP protocol h11 bounded by --max-connections and --header-timeout (whether
    or not httptools is installed, which uvicorn's "auto" would pick), and both it and its WebSocket protocol
    (websockets' sans-I/O) by --send-timeout (serve.http_protocol, serve.websocket_protocol)."""
    http, ws = protocols_for(state)
    uvicorn_log = logging.getLogger("uvicorn.error")
    for kind in (QuietUvicorn, CutOffSaid):  # once per process, however many servers it makes
        if not any(isinstance(f, kind) for f in uvicorn_log.filters):
            uvicorn_log.addFilter(kind())
    config = uvicorn.Config(app, log_level="warning", access_log=False, http=http, ws=ws, ws_max_size=ws_max_size,
                            lifespan="on", timeout_graceful_shutdown=SEND_GRACE_S)
    return DrainingServer(config, state)


class Loader:
    """The model's load in a thread of its own while the server answers (/livez 200, /readyz and work 503): then
    `state.ready`, or the load's exception kept for `serve` to raise and the server told to stop."""

    def __init__(self, server: DrainingServer, load: Callable[[], Vocoder]) -> None:
        self.server, self.load = server, load
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="hifigan-serve-loader", daemon=True)

    def start(self) -> Loader:
        self.thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        try:
            vocoder = self.load()
        except BaseException as e:  # a bad checkpoint: `serve` raises it once the server has stopped
            self.error = e
            self.server.should_exit = True
            return
        state = self.server.state
        state.ready(vocoder)
        if state.scheduler is None:  # the server stopped while the model loaded: it never becomes ready
            return
        info = state.info()
        weights = info["weights_sha256"]  # its first 12 hex digits, as a fleet's replicas are told apart
        # The limits in force, the one of --max-frames and --max-message-bytes not given fitted to the other's
        event("ready", model=info["model"], step=info["step"], weights=weights and weights[:12],
              backend=info["backend"], device=info["device"],
              **{key: info[key] for key in ("max_batch", "max_batch_delay_ms", "max_frames", "max_message_bytes")},
              load=f"{time.monotonic() - started:.1f}s")


def exit_now() -> NoReturn:
    """A second Ctrl+C (draining, or waiting for the model's load): said, and the process ends at once, interrupted."""
    event("exiting", signal="SIGINT", msg="second interrupt, exiting now")
    os._exit(INTERRUPTED)


def finish_load(loader: Loader) -> None:
    """Wait for a load that a signal interrupted: a torch call cannot be stopped, and the interpreter exiting under it
    aborted the process (SIGABRT, "terminate called without an active exception") instead of exiting 0. A second
    Ctrl+C meanwhile exits at once (130), as while draining."""
    try:  # from before the line: a Ctrl+C that follows it at once is the second one too
        event("stopping", msg="stopping once the model's load, under way, ends")
        loader.thread.join()
    except KeyboardInterrupt:
        exit_now()


def serve(app: object, sock: socket.socket, host: str, load: Callable[[], Vocoder]) -> int:
    """Serve `app` (build_app's, without a model) on `sock` (`bind(host, port)`'s, bound before the model loads so
    that a bad or used address fails first) while `load()` loads the model, then until a signal; 0 once drained. An
    exception of `load` is raised once the server has stopped."""
    state: ServeState = app.state.serve  # type: ignore[attr-defined]
    configure_logging()
    url, everywhere = sockets.browser_url(host, sock.getsockname()[1])
    server = make_server(app, state, 2 * state.options.max_message_bytes)
    loader = Loader(server, load)
    with server.capture_signals():  # from the first line on, a signal drains (uvicorn's own capture comes later)
        event("listening", url=url, model=state.name,
              msg=f"listening on {url} ({f'{everywhere}; ' if everywhere else ''}{state.name} loading: /readyz says "
                  "200 once it is ready)")
        loader.start()
        server.run(sockets=[sock])
    if loader.thread.is_alive():
        finish_load(loader)
    if loader.error is not None:
        raise loader.error
    event("stopped")
    return 0
