"""The server's log lines parse as a log collector parses them, every one by one rule: an ISO 8601 UTC timestamp, then
logfmt fields whose quoted values (the errors, the routes) read back, by JSON's rules, as written: an error as the
client was answered, whatever quotes it holds."""

from __future__ import annotations

import logging

import httpx
import pytest

from hifigan.serve.client import Client, ServeError
from hifigan.serve.log_lines import LineFormatter, line
from tests.support.serve_inputs import GOOD, limited_server
from tests.support.serve_log import fields


def test_the_time_is_iso_8601_in_utc_to_the_millisecond():
    record = logging.LogRecord("hifigan.serve", logging.INFO, __file__, 1, "POST /v1/vocode 200", None, None)
    record.created, record.msecs = 1764747959.184, 184.0  # 2025-12-03 07:45:59.184 UTC
    assert LineFormatter().format(record) == "2025-12-03T07:45:59.184Z POST /v1/vocode 200"


def test_a_value_is_quoted_where_logfmt_needs_it_and_reads_back():
    """Spaces (a route), quotes, `=`, a backslash and the empty text are quoted; a word, a number and `(connection)`
    are not; a field of None (a step no file records) is left out."""
    said = line(route="POST /v1/vocode", status=200, error='a "b" \\ c=d', empty="", step=None, delay=5.0,
                other="(connection)", url="http://127.0.0.1:8000")
    assert said == (r'route="POST /v1/vocode" status=200 error="a \"b\" \\ c=d" empty="" delay=5 other=(connection) '
                    "url=http://127.0.0.1:8000")
    assert fields(said) == {"route": "POST /v1/vocode", "status": "200", "error": 'a "b" \\ c=d', "empty": "",
                            "delay": "5", "other": "(connection)", "url": "http://127.0.0.1:8000"}


def test_an_error_with_quotes_reads_back_whole(caplog):
    """Errors holding single quotes (a text message's) and double quotes (a path's) each read back as answered:
    Python's repr quoted the first with double quotes and the others with single ones, which logfmt does not read."""
    with limited_server() as (running, _), caplog.at_level(logging.INFO, logger="hifigan.serve"):
        missing = httpx.get(f"{running.url}/it's/a\"path").json()["error"]
        with pytest.raises(ServeError) as caught:
            Client(running.url).stream([GOOD, "stop"])
    assert "'" in missing and '"' in missing and "'stop'" in caught.value.message
    errors = [fields(r.getMessage()).get("error") for r in caplog.records if r.name == "hifigan.serve"]
    assert missing in errors and caught.value.message in errors, errors
