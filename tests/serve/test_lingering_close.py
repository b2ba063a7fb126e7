"""An error answered with `Connection: close` while the client is still sending its body reaches the client whole:
the server half-closes and drops what still comes before it closes (a close with request bytes unread makes the
kernel reset the connection, and the client could lose the answer). Raw sockets on a real server."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time

import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.http_protocol import CLOSE_DROP_BYTES, CLOSE_GRACE_S
from hifigan.serve.limits import ServeOptions
from tests.support.serve import Running, running_server
from tests.support.tiny import tiny_config

REPEATS = 12  # the old code (close at once) lost at least one answer in every run of this many


@pytest.fixture(scope="module")
def served():
    cfg = tiny_config()
    torch.manual_seed(0)
    with running_server(Vocoder(Generator(cfg), cfg), ServeOptions(body_timeout_s=0.2, max_message_bytes=1 << 16)) as r:
        yield r


# The sender, in a process of its own: a thread of the server's process would send only when the server's thread
# lets go of the GIL, hardly ever between its last read and its close, where a byte makes the kernel's reset.
SENDER = """import socket, sys, time
sock = socket.socket(fileno=int(sys.argv[1]))
data, piece, every_s = sys.argv[2].encode("latin-1"), b"\\0" * int(sys.argv[3]), float(sys.argv[4])
try:
    while True:
        sock.sendall(data + piece)
        data = b""
        time.sleep(every_s)
except OSError:  # the server closed (a reset): the reader tells whether it came too soon
    pass
"""


def _answer_while_sending(running: Running, head: bytes, piece: int, every_s: float,
                          after_s: float = 0.0) -> tuple[bytes, float]:
    """Send the request's `head`, then `piece` bytes every `every_s` (0: back to back) until the answer has been read
    to the server's end of stream, and up to `after_s` longer while the server takes them; what was read (a reset of
    the connection before it was all read fails the test), and how long the server took bytes after its answer."""
    host, port = running.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sender = subprocess.Popen([sys.executable, "-I", "-c", SENDER, str(sock.fileno()), head.decode("latin-1"),
                               str(piece), str(every_s)], pass_fds=[sock.fileno()])
    sock.settimeout(10)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
        answered = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):
            sender.wait(after_s)
        taken = time.monotonic() - answered
    except ConnectionResetError:
        pytest.fail(f"the connection was reset after {len(data)} bytes of the answer")
    finally:
        sender.kill()
        sender.wait()
        sock.close()
    return data, taken


def _error(data: bytes) -> tuple[int, str]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert "connection: close" in [line.lower() for line in lines[1:]], lines
    return int(lines[0].split()[1]), json.loads(body)["error"]


def test_a_body_still_arriving_after_the_body_timeout_gets_the_whole_408(served):
    """Bytes keep coming, steadily (a few KiB in the 0.2 s of --body-timeout, far from the 64 KiB announced), past
    the deadline and after the 408: the 408 arrives whole, every time, and the server ends the stream itself."""
    head = (b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-npy\r\n"
            b"Content-Length: 65536\r\n\r\n")
    for _ in range(REPEATS):
        status, error = _error(_answer_while_sending(served, head, 1, every_s=0.0001)[0])
        assert status == 408 and error.endswith("(--body-timeout)"), error


def test_a_body_over_the_limit_sent_anyway_gets_the_whole_413(served):
    """A Content-Length over --max-message-bytes, `Connection: close` (urllib's way), and the body sent anyway, fast:
    the 413 is answered before the body is read (uvicorn stops reading what the app has not taken beyond 64 KiB, so
    some is still unread then), and arrives whole, every time."""
    head = (b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-npy\r\n"
            b"Content-Length: 1000000000\r\n\r\n")
    for _ in range(REPEATS):
        status, error = _error(_answer_while_sending(served, head, 256 << 10, every_s=0.005)[0])
        assert status == 413 and error.endswith("(--max-message-bytes)"), error


def test_a_client_that_goes_on_sending_is_closed_after_the_grace(served):
    """What comes after the answer is read and dropped for CLOSE_GRACE_S (so that it is not what resets the
    connection), and no longer: a client still sending then (slowly, so that the byte bound is not what ends it) has
    its connection closed, not held for as long as it sends."""
    head = (b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-npy\r\n"
            b"Content-Length: 1000000000\r\n\r\n")
    data, taken = _answer_while_sending(served, head, 1024, every_s=0.01, after_s=CLOSE_GRACE_S + 3)
    assert _error(data)[0] == 413 and CLOSE_GRACE_S / 2 < taken < CLOSE_GRACE_S + 2, taken



# Connects, sends the head, then 1 MiB pieces back to back until the server ends the connection: prints how many.
FLOODER = """import socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sock.sendall(sys.argv[3].encode("latin-1"))
piece, sent = b"\\0" * (1 << 20), 0
try:
    while sent < (1 << 30):
        sock.sendall(piece)
        sent += len(piece)
except OSError:
    pass
print(sent)
"""


def test_a_client_flooding_after_the_answer_is_closed_once_the_drop_bound_is_read(served):
    """What a closing connection reads and drops is bounded in bytes too (CLOSE_DROP_BYTES), not only by the grace:
    a client sending as fast as it can is closed once that much came, so it sends that much plus what the kernel's
    buffers hold, not what it can push in CLOSE_GRACE_S (hundreds of MiB on a loopback)."""
    host, port = served.url.removeprefix("http://").split(":")
    head = (b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-npy\r\n"
            b"Content-Length: 1000000000\r\n\r\n")
    out = subprocess.run([sys.executable, "-I", "-c", FLOODER, host, port, head.decode("latin-1")],
                         capture_output=True, text=True, timeout=CLOSE_GRACE_S + 20, check=True).stdout
    sent = int(out)
    assert CLOSE_DROP_BYTES <= sent < CLOSE_DROP_BYTES + (32 << 20), f"{sent >> 20} MiB sent before the server closed"


# Connects, sends the head, reads the answer to the server's end of stream (says so), then sends 1 KiB every 10 ms
# until the server closes: prints the seconds from the answer's end to the close.
SLOW_SENDER = """import socket, sys, time
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sock.sendall(sys.argv[3].encode("latin-1"))
while sock.recv(65536):
    pass
answered = time.monotonic()
print("answered", flush=True)
try:
    while time.monotonic() - answered < 10:
        sock.sendall(b"\\0" * 1024)
        time.sleep(0.01)
except OSError:
    pass
print(time.monotonic() - answered, flush=True)
"""


def test_a_drain_lets_a_lingering_connection_finish_its_grace():
    """A drain (the server's shutdown) does not close a connection that is lingering after its answer at once, which
    would be the reset lingering avoids: it is closed at the end of its grace, as without the drain."""
    cfg = tiny_config()
    torch.manual_seed(0)
    with running_server(Vocoder(Generator(cfg), cfg), ServeOptions(max_message_bytes=1 << 16)) as running:
        host, port = running.url.removeprefix("http://").split(":")
        head = (b"POST /v1/vocode HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-npy\r\n"
                b"Content-Length: 1000000000\r\n\r\n")
        sender = subprocess.Popen([sys.executable, "-I", "-c", SLOW_SENDER, host, port, head.decode("latin-1")],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert sender.stdout.readline() == "answered\n"
        except BaseException:
            sender.kill()
            raise
    taken = float(sender.communicate(timeout=20)[0])  # the drain began as the answer was read
    assert CLOSE_GRACE_S / 2 < taken < CLOSE_GRACE_S + 3, taken
