"""A listening TCP socket for the two servers (`hifigan listen`, `hifigan serve`), whose bad or used address is a
one-line error naming the option to change."""

from __future__ import annotations

import errno
import ipaddress
import socket

from hifigan.config.values import integer_problem
from hifigan.errors import HifiganError

PORTS = (0, 65535)  # a TCP port's range; 0: any free one


def bind(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free one; IPv6 where `host` resolves to it); one-line errors
    for a port out of range, a host that does not resolve and an address in use or not ours."""
    if (problem := integer_problem(port, *PORTS)) is not None:
        raise HifiganError(None, f"--port {problem}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise HifiganError(None, f"--host {host}: cannot resolve it ({e.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may reuse a port in TIME_WAIT
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise HifiganError(None, f"{host}:{port}: port already in use (another server?); choose another "
                               "--port") from None
        raise HifiganError(None, f"{host}:{port}: cannot listen there ({e.strerror})") from None
    return sock


def browser_url(host: str, port: int) -> tuple[str, str | None]:
    """The http:// URL (no trailing slash) a browser on this machine opens for a server bound to host:port, and a note
    when `host` is every interface (0.0.0.0, ::), an address a browser cannot open: the URL then names loopback, and
    the note ("on every interface, ...") says so."""
    try:
        everywhere = ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        everywhere = False
    shown = ("::1" if ":" in host else "127.0.0.1") if everywhere else host
    url = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    if not everywhere:
        return url, None
    return url, f"on every interface, --host {host}: from other machines, this machine's name or address in its place"
