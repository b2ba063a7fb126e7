"""Render benchmarks/results/*.json (written by `hifigan bench --json`) as the markdown tables of README.md.

usage: python benchmarks/table.py [results/v1.json ...]   (default: every results/*.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def render(paths: list[Path]) -> str:
    results = [json.loads(p.read_text()) for p in paths]
    out = []
    for r in results:
        m = r["machine"]
        out.append(f"**{r['config']}** ({r['audio_seconds']} s of audio, median of {r['repeats']} interleaved runs, "
                   f"{r['date']}; {m['cpu']}, {m['cores']} cores, {m['threads']} threads, torch {m['torch']}, "
                   f"onnxruntime {m['onnxruntime']})\n")
        out.append("| backend | median s | x real time | speedup vs eager | solo speedup | page faults per run "
                   "| peak RSS MB | max abs diff |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for b in r["backends"]:
            solo = b.get("solo_speedup_vs_eager")
            out.append(f"| {b['backend']} | {b['median_s']:.3f} | {b['x_real_time']:.2f} | "
                       f"{b['speedup_vs_eager']:.2f} | {f'{solo:.2f}' if solo else '-'} | {b.get('page_faults', '-')} "
                       f"| {b.get('peak_rss_mb', '-')} | {b['max_abs_diff']:.1e} |")
        s = r["stream"]
        out.append(f"\n`auto` = {r['auto']}. Streaming: look-ahead {s['lookahead_frames']} frames "
                   f"({s['algorithmic_latency_ms']} ms), left context {s['left_context_frames']} frames; "
                   f"{s['chunk_frames']}-frame chunks ({s['chunk_audio_ms']} ms of audio) take "
                   f"{s['per_chunk_ms_median']} ms median / {s['per_chunk_ms_max']} ms max to vocode.")
        if "stream_memory" in r:
            sm = r["stream_memory"]
            out.append(f"Streaming {sm['minutes']} minutes ({sm['chunk_frames']}-frame chunks): peak RSS "
                       f"{sm.get('peak_rss_mb')} MB in {sm.get('seconds')} s; one-shot on 60 s: peak RSS "
                       f"{sm['one_shot_60s'].get('peak_rss_mb')} MB.")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted((Path(__file__).parent / "results").glob("*.json"))
    print(render(args))
