"""The server's log lines (one per request, stream, refusal and connection it ends) in a form a log collector parses
without a pattern of its own: an ISO 8601 UTC timestamp, then `route status` and logfmt `key=value` fields, a value
that may hold spaces or quotes (an error) in double quotes with JSON's escapes."""

from __future__ import annotations

import json
import logging
import time


def quoted(text: str) -> str:
    """`text` as a logfmt value: in double quotes, `"` and `\\` escaped as JSON escapes them (Python's repr, which
    it was, switched to single quotes unless the text held one, which logfmt parsers do not read as quotes)."""
    return json.dumps(text, ensure_ascii=False)


class LineFormatter(logging.Formatter):
    """`2026-12-03T07:45:59.184Z message`: the time in UTC, to the millisecond, as ISO 8601 writes it (it was the
    machine's local time without its zone, `2026-12-03 07:45:59,184`, which a collector took for UTC or dropped)."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")
