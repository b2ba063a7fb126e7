"""What the server does to a connection on its own, before (or beneath) the routes: each counted and logged under
`(connection)` with the client's address (`dropped`), by the guarded protocols that uvicorn runs (http_protocol.py:
h11 with --max-connections, --header-timeout and a lingering close; websocket_protocol.py: a refused handshake), and
--send-timeout for both, a client that stops reading (`SendDeadline`)."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

from hifigan.messages.plural import byte_size
from hifigan.serve.app_state import ServeState
from hifigan.serve.limits import option
from hifigan.serve.log_lines import line

log = logging.getLogger("hifigan.serve")
ROUTE = "(connection)"  # the log's and the metric's name for what the server does to a connection on its own
CUT = "hifigan.send_timeout"  # the scope key where a connection reset by --send-timeout leaves why, for its stream


def dropped(state: ServeState, client: tuple[str, int] | None, answer: int | str, reason: str, message: str) -> None:
    """A connection the server ended on its own, counted under `reason` and logged under ROUTE with the client's
    address: `answer` is its status, or `closed` (nothing answered), or `reset` (cut off)."""
    state.metrics.dropped.labels(reason).inc()
    log.info(line(route=ROUTE, status=answer, error=message, client=f"{client[0]}:{client[1]}" if client else "?"))


class SendDeadline:
    """--send-timeout, mixed into a uvicorn protocol (before it; set `state` on a subclass). Once the server holds
    bytes for the connection that its socket did not take (the buffers on the way are full), the client must take some
    of them within each `send_timeout_s`, else the connection is reset and counted as `send-timeout`: a client that
    stopped reading is cut off, one that reads slowly (a slow link and a large answer) is not.
    uvicorn alone waits for such a client for as long as it keeps the connection open: a close (after an answer, the
    keep-alive timeout, a drain) first sends what is unsent, and a stream's next send waits for room; a request's
    connection, and a stream's slot and a drain, were held by it for ever."""

    state: ServeState
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None
    send_due: asyncio.TimerHandle | None = None
    unsent_when_armed = 0  # what the server held for the client when the clock last started: less later is progress

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        # Paused (and the clock started) as soon as a byte is left unsent, resumed once none is: with uvicorn's
        # marks (64 KiB, 16 KiB) a closing connection's last bytes under them would wait unwatched, for ever.
        transport.set_write_buffer_limits(high=0)

    def pause_writing(self) -> None:
        super().pause_writing()  # type: ignore[misc]
        if self.send_due is None:
            self.arm_send_clock()

    def resume_writing(self) -> None:
        self.stop_send_clock()
        super().resume_writing()  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_send_clock()
        super().connection_lost(exc)  # type: ignore[misc]

    def arm_send_clock(self) -> None:
        self.unsent_when_armed = self.transport.get_write_buffer_size()
        self.send_due = self.loop.call_later(self.state.options.send_timeout_s, self.send_late)

    def stop_send_clock(self) -> None:
        if self.send_due is not None:
            self.send_due.cancel()
            self.send_due = None

    def send_late(self) -> None:
        """The clock ran out: where the client took some of what was held since it started, start it again; else
        reset the connection (SO_LINGER 0: the kernel drops what it still holds for the client and tells it, where a
        close would go on sending it), after counting and logging it; a stream learns why from its scope (CUT)."""
        self.send_due = None
        seconds, unsent = self.state.options.send_timeout_s, self.transport.get_write_buffer_size()
        if unsent < self.unsent_when_armed:
            self.arm_send_clock()
            return
        message = (f"the client stopped reading: {byte_size(unsent)} still to send, none taken for {seconds:g} s "
                   f"({option('send_timeout_s')})")
        dropped(self.state, self.client, "reset", "send-timeout", message)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope[CUT] = message
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()
