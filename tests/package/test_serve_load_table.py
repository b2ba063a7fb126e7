"""benchmarks/serve_load.py's table (serve_load_table.py): its first line says the threads each server ran with as
they were given."""

from __future__ import annotations

import importlib.util

from tests.support.files import REPO


def test_the_first_line_names_the_threads_per_server():
    """1 thread, 2 threads, and torch's own where --threads was not given, where it printed '1 threads' and, with no
    --threads (the GPU command docs/serving.md shows), 'None threads per server'."""
    spec = importlib.util.spec_from_file_location("serve_load_table", REPO / "benchmarks" / "serve_load_table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    results = {"when": "2026-12-08T00:00:00Z", "machine": "a CPU", "under_load": False, "utterance_s": 2.0,
               "requests_per_client": 2, "message_frames": 20, "delay_ms": 5.0, "max_batch": 16, "cells": []}
    said = {threads: table.markdown({**results, "threads": threads}).splitlines()[0] for threads in (1, 2, None)}
    assert ", 1 thread per server, " in said[1] and ", 2 threads per server, " in said[2]
    assert ", torch's threads per server, " in said[None]
