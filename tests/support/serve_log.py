"""The server's log lines read as a log collector reads them, by one rule for every line (an ISO 8601 UTC time, then
logfmt key=value fields, a quoted value read by JSON's escapes), written here apart from hifigan.serve.log_lines."""

from __future__ import annotations

import json
import re

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
VALUE = r'"(?:[^"\\]|\\.)*"|[^\s="\\]+'
PAIR = rf"\w+=(?:{VALUE})"
MESSAGE = re.compile(rf"{PAIR}(?: {PAIR})*")  # a line without its time (a log record's message)
LINE = re.compile(rf"{TIME} {MESSAGE.pattern}")
FIELD = re.compile(rf"(\w+)=({VALUE})")


def fields(message: str) -> dict[str, str]:
    """A record's message's fields, the quoted values unquoted; one that is not logfmt through and through fails."""
    assert MESSAGE.fullmatch(message), message
    return {key: json.loads(value) if value.startswith('"') else value for key, value in FIELD.findall(message)}


def line_fields(line: str) -> dict[str, str]:
    """A whole line's fields, after the time it must begin with."""
    assert LINE.fullmatch(line), line
    return fields(line.split(" ", 1)[1])
