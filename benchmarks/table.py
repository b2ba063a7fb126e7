"""Render benchmarks/results/*.json (written by `hifigan bench -o FILE.json`) as the tables of docs/inference.md.

usage: python benchmarks/table.py [results/v1.json ...]   (default: every results/*.json that `hifigan bench` wrote)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hifigan.inference.bench_table import TABLE_HEADER, summary_lines, table_rows
from hifigan.runtime.machine import machine_text


def is_bench(result: object) -> bool:
    """Whether a results file is `hifigan bench`'s (the folder also holds other benchmarks' JSON)."""
    return isinstance(result, dict) and {"config", "backends", "machine"} <= result.keys()


def render(paths: list[Path]) -> str:
    results = [json.loads(p.read_text()) for p in paths]
    out = []
    for r in results:
        m = r["machine"]
        weights = f", {r['weights']} weights" if "weights" in r else ""
        out.append(f"**{r['config']}**{weights} ({r['audio_seconds']} s of audio, median of {r['repeats']} "
                   f"interleaved runs, "
                   f"{r['date']}; {machine_text(m)}, onnxruntime {m['onnxruntime']})\n")
        out.append("| " + " | ".join(TABLE_HEADER) + " |")
        out.append("|---" + "|---:" * (len(TABLE_HEADER) - 1) + "|")
        out.extend("| " + " | ".join(row) + " |" for row in table_rows(r))
        out.append("")
        out.extend(summary_lines(r))
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or [
        p for p in sorted((Path(__file__).parent / "results").glob("*.json")) if is_bench(json.loads(p.read_text()))
    ]
    print(render(args))
