"""How gpu_check's checks write an exception they record and go on from: one line, its type and the first line of its
message, cut to a length (a CUDA or compiler error runs to many lines; the report keeps a traceback apart)."""

from __future__ import annotations


def error_line(e: BaseException, limit: int = 300) -> str:
    """`Type: the first line of the message`, that line cut to `limit` characters ('Type: ' where it says nothing)."""
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0][:limit] if lines else ''}"
