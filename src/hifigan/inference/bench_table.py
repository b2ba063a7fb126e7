"""How `hifigan bench`'s results read (bench.py measures them): one row of text cells per backend, the lines under
them (auto, streaming, streaming memory) and the fixed-width table the command prints; benchmarks/table.py renders
the same rows as markdown."""

from __future__ import annotations

from typing import Any

from hifigan.inference.bench_stream import stream_text
from hifigan.messages.columns import aligned
from hifigan.runtime.machine import machine_text

TABLE_HEADER = ["backend", "median s", "x real time", "speedup vs eager", "solo speedup", "page faults per run",
                "peak RSS MB", "max abs diff"]


def table_rows(result: dict[str, Any]) -> list[list[str]]:
    """One row of text cells per backend, under TABLE_HEADER; the terminal table and benchmarks/table.py
    (markdown) both render these."""

    def cell(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    return [
        [r["backend"], cell(r["median_s"], ".3f"), cell(r["x_real_time"], ".2f"), cell(r["speedup_vs_eager"], ".2f"),
         cell(r.get("solo_speedup_vs_eager"), ".2f"), cell(r.get("page_faults"), "d"), cell(r.get("peak_rss_mb"), ""),
         cell(r["max_abs_diff"], ".1e")]
        for r in result["backends"]
    ]


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The lines under the table: `auto`, streaming latency and per-chunk time, streaming memory if measured."""
    lines = [f"auto = {result['auto']}. {stream_text(result['stream'])}"]
    if "stream_memory" in result:
        sm = result["stream_memory"]
        lines.append(f"Streaming {sm['minutes']} minutes ({sm.get('backend', 'auto')}, {sm['chunk_frames']}-frame "
                     "chunks): peak RSS "
                     f"{sm.get('peak_rss_mb')} MB in {sm.get('seconds')} s; one-shot on 60 s: peak RSS "
                     f"{sm['one_shot_60s'].get('peak_rss_mb')} MB.")
    return lines


def format_table(result: dict[str, Any]) -> str:
    """The result as a fixed-width text table."""
    weights = f" ({result['weights']} weights)" if "weights" in result else ""
    title = (f"config {result['config']}{weights}, {result['audio_seconds']} s of audio, median of "
             f"{result['repeats']} interleaved runs; {machine_text(result['machine'])}")
    return "\n".join([title, *aligned([TABLE_HEADER, *table_rows(result)]), *summary_lines(result)])
