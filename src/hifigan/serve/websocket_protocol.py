"""uvicorn's WebSocket protocol (websockets' sans-I/O) bounded by --send-timeout (connections.SendDeadline), and its
refusal of a malformed handshake answered, counted and logged as the server's other refusals are."""

from __future__ import annotations

import json

from hifigan.runtime.extras import optional_import
from hifigan.serve.app_state import ServeState
from hifigan.serve.connections import SendDeadline, dropped

optional_import("uvicorn", "hifigan serve")
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol  # noqa: E402
from websockets.datastructures import Headers  # noqa: E402
from websockets.http11 import Request, Response  # noqa: E402

HANDSHAKE_FAILED = "Failed to open a WebSocket connection: "  # how websockets begins its refusal of a handshake


class GuardedWebSocketProtocol(SendDeadline, WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol (websockets' sans-I/O) bounded by `state.options.send_timeout_s`, its refusals of
    a handshake answered as the server's refusals are (`refused`); set `state` on a subclass (`protocols_for`)."""

    state: ServeState

    def handle_connect(self, event: Request) -> None:
        accept = self.conn.accept

        def accept_or_refuse(request: Request) -> Response:
            response = accept(request)
            return response if response.status_code == 101 else self.refused(response)

        self.conn.accept = accept_or_refuse  # type: ignore[method-assign]
        super().handle_connect(event)

    def refused(self, response: Response) -> Response:
        """websockets' plain-text refusal of a malformed handshake (a bad Sec-WebSocket-Key or -Version, a method
        other than GET) as {"error": ...} with its status and headers, counted and logged under ROUTE like what h11
        refuses (it logged and counted nothing)."""
        said = response.body.decode(errors="replace").strip().splitlines()[0]
        message = "WebSocket handshake refused: " + said.removeprefix(HANDSHAKE_FAILED).removesuffix(".")
        dropped(self.state, self.client, response.status_code, "invalid-request", message)
        body = json.dumps({"error": message}).encode()
        headers = Headers([(k, v) for k, v in response.headers.raw_items()
                           if k.lower() not in ("content-type", "content-length")])
        headers["Content-Type"], headers["Content-Length"] = "application/json", str(len(body))
        return Response(response.status_code, response.reason_phrase, headers, body)
