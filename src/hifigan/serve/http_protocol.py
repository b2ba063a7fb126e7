"""uvicorn's HTTP/1.1 protocol (h11) with the bounds it lacks: at most --max-connections open at once (one more is
answered 503 as soon as it connects, before it has sent anything), and --header-timeout for a request's headers (408,
or a plain close if not a byte came). Without them a client sending its headers a byte at a time, or nothing at all,
holds a connection for ever, and a few hundred such clients exhaust the server's file descriptors; uvicorn's own
limit_concurrency answers only once the headers are in, and its keep-alive timer runs only between requests. What h11
refuses (uvicorn's 400) is answered, logged and counted like these refusals. --send-timeout: connections.SendDeadline.

A connection closed after an answer while its request may still be arriving (these refusals; the app's errors with
`Connection: close` before the body was read, such as a 408 from --body-timeout) closes lingering, as production servers
do: uvicorn would close the socket at once, with the client's bytes unread, and the kernel would then reset the
connection instead of ending it, so the client could lose the answer (or read a reset where the end should be)."""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus

from hifigan.messages.plural import agree, count
from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.connections import SendDeadline, dropped
from hifigan.serve.limits import option

optional_import("uvicorn", "hifigan serve")
import h11  # noqa: E402
from uvicorn.protocols.http.h11_impl import H11Protocol  # noqa: E402

CLOSE_GRACE_S = 1.0  # after an answer that closes the connection, how long the client has to read it
CLOSE_DROP_BYTES = 16 << 20  # what a closing connection reads and drops at most, before it closes at once


class AnswerTransport:
    """The transport as a request's cycle (uvicorn's RequestResponseCycle) sees it: the protocol's, except that its
    close() is the protocol's `close_after_answer` (which lingers if the request is still arriving)."""

    def __init__(self, protocol: GuardedH11Protocol) -> None:
        self.protocol = protocol

    def __getattr__(self, name: str) -> object:
        return getattr(self.protocol.transport, name)

    def close(self) -> None:
        self.protocol.close_after_answer()


class GuardedH11Protocol(SendDeadline, H11Protocol):
    """H11Protocol bounded by `state.options` (max_connections, header_timeout_s, send_timeout_s); set `state` on a
    subclass (`protocols_for`). A refusal is counted and logged like a request's error, under the route
    `(connection)`."""

    state: ServeState

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.headers_due: asyncio.TimerHandle | None = None
        self.close_due: asyncio.TimerHandle | None = None
        self.closing = False  # answered, and closing: what else comes is read and dropped (`linger`)
        self.dropped = 0
        limit = self.state.options.max_connections
        if len(self.connections) > limit:
            self.refuse(503, "max-connections", f"{count(limit, 'connection')} {agree(limit, 'is', 'are')} open, "
                                                 f"the limit ({option('max_connections')})")
        else:
            self.arm()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            self.dropped += len(data)
            if self.dropped > CLOSE_DROP_BYTES:
                self.transport.close()
            return
        if self.headers_due is None and self.conn.their_state is h11.IDLE:
            self.arm()  # the first bytes of a request after a keep-alive wait (which they ended)
        super().data_received(data)

    def handle_events(self) -> None:
        scope = self.scope
        super().handle_events()
        if self.scope is not scope:  # a request's headers are in (the app, or the WebSocket, has it now)
            self.disarm()
            if self.cycle is not None and self.cycle.scope is self.scope:  # the app's (not a WebSocket's)
                self.cycle.transport = AnswerTransport(self)  # type: ignore[assignment]

    def close_after_answer(self) -> None:
        """The close of a request's cycle (its answer is written): lingering if the request's body may still be
        arriving (the app answered before reading all of it), else at once."""
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.linger()
        else:
            self.transport.close()

    def linger(self) -> None:
        """Close after the answer written: end the stream (the client reads the answer, then its end), read and drop
        what still comes until the client closes too, CLOSE_DROP_BYTES came or CLOSE_GRACE_S passed, then close."""
        self.closing = True
        self.disarm()
        try:
            self.transport.write_eof()
        except OSError:  # the client is gone already (its reset came as the answer reached it): nothing to wait for
            self.transport.close()
            return
        self.transport.resume_reading()  # uvicorn pauses reading while the app has not taken a body's bytes
        self.close_due = self.loop.call_later(CLOSE_GRACE_S, self.transport.close)

    def shutdown(self) -> None:
        """A drain (SIGTERM) closes a connection, but a lingering one only once its grace is over (closing it at once
        would be the reset that lingering avoids): the drain waits for it CLOSE_GRACE_S at most."""
        if not self.closing:
            super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        if self.close_due is not None:
            self.close_due.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """h11 refused what came (bad or duplicate Content-Length, bytes after a body without one): answered like
        the other refusals (uvicorn's own answer is text, logged in its format without the client; QuietUvicorn)."""
        self.refuse(400, "invalid-request", "invalid HTTP request (bad framing or headers), refused by h11")

    def arm(self) -> None:
        self.disarm()
        self.headers_due = self.loop.call_later(self.state.options.header_timeout_s, self.headers_late)

    def disarm(self) -> None:
        if self.headers_due is not None:
            self.headers_due.cancel()
            self.headers_due = None

    def headers_late(self) -> None:
        self.headers_due = None
        if self.transport.is_closing() or self.closing:
            return
        seconds = self.state.options.header_timeout_s
        received = len(self.conn.trailing_data[0])
        if received:
            self.refuse(408, "header-timeout", f"the request headers did not arrive within {seconds:g} s: "
                                               f"{count(received, 'byte')} came ({option('header_timeout_s')})")
        else:  # not a byte: nobody to answer (a port scanner, a client that connected and forgot)
            self.refuse(None, "header-timeout", f"no request within {seconds:g} s of connecting "
                                                  f"({option('header_timeout_s')})")

    def refuse(self, status: int | None, reason: str, message: str) -> None:
        """Answer `status` (None: nothing) with {"error": message}, count it under `reason` and log it, and close the
        connection, lingering (`linger`) if there was an answer."""
        self.closing = True
        self.disarm()
        dropped(self.state, self.client, status or "closed", reason, message)
        if status is None:
            self.transport.close()
            return
        body = json.dumps({"error": message}).encode()
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                             b"connection: close\r\n\r\n%s" % (status, HTTPStatus(status).phrase.encode(), len(body),
                                                                body))
        self.linger()


class QuietUvicorn(logging.Filter):
    """Drops uvicorn's warnings, in its own format, for what the server says or does rightly on its own: "Invalid
    HTTP request received." (GuardedH11Protocol logs it in the server's format, with the client's address, and
    counts it) and "Unsupported upgrade request." (an Upgrade to h2c, as `curl --http2` asks: the request is served
    over HTTP/1.1, as RFC 9110 lets a server do, and logged as any other)."""

    QUIET = frozenset({"Invalid HTTP request received.", "Unsupported upgrade request."})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.QUIET
