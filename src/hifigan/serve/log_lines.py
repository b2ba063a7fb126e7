"""The server's log lines, every one in a form a log collector parses by one rule without a pattern of its own: an
ISO 8601 UTC timestamp, then logfmt `key=value` fields, a value that may hold spaces or quotes (an error, a route) in
double quotes with JSON's escapes. A request's, stream's or connection's line begins `route=`, the server's own
(listening, ready, draining, stopped) `event=`."""

from __future__ import annotations

import json
import logging
import re
import time

log = logging.getLogger("hifigan.serve")

_BARE = re.compile(r'[^\s="\\]+')  # a value logfmt reads back without quotes


def quoted(text: str) -> str:
    """`text` as a logfmt value: in double quotes, `"` and `\\` escaped as JSON escapes them (Python's repr, which
    it was, switched to single quotes unless the text held one, which logfmt parsers do not read as quotes)."""
    return json.dumps(text, ensure_ascii=False)


def line(**fields: object) -> str:
    """`key=value ...` in the order given, a value quoted only where logfmt needs it (a space, a quote, `=`, empty);
    a field of None is left out (a step the model's file does not record)."""
    return " ".join(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)


def _value(value: object) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if _BARE.fullmatch(text) else quoted(text)


def took(started: float) -> str:
    """The time since `started` (time.monotonic()) as a line's `duration` value, in milliseconds: `164.2ms`."""
    return f"{1000 * (time.monotonic() - started):.1f}ms"


def event(name: str, **fields: object) -> None:
    """One of the server's own lines: `event=NAME` and its fields (a `msg` last, in words, where it has one)."""
    log.info(line(event=name, **fields))


class LineFormatter(logging.Formatter):
    """`2026-12-03T07:45:59.184Z message`: the time in UTC, to the millisecond, as ISO 8601 writes it (it was the
    machine's local time without its zone, `2026-12-03 07:45:59,184`, which a collector took for UTC or dropped)."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")
