"""serve_load.py's Markdown table: a line saying how the load was made, then per cell the batching server's row and
the --max-batch 1 server's, and a line per model for its compute alone (results from older runs lack some columns)."""

from __future__ import annotations

from hifigan.messages.plural import count


def markdown(results: dict) -> str:
    rate = results.get("stream_rate") or 0
    pace = f"paced at {rate:g}x real time" if rate else "sent at once"
    spread = results.get("utterance_spread") or 0
    spread = f", lengths drawn uniformly within {spread:.0%} of it" if spread else ""
    load = " UNDER LOAD (a shared machine: the ratios within the run hold better than the absolute figures)"
    threads = count(results["threads"], "thread") if results["threads"] else "torch's threads"  # None: no --threads
    lines = [f"Measured {results['when']} on {results['machine']}{load if results['under_load'] else ''}."
             f" Utterances of {results['utterance_s']} s{spread}, {results['requests_per_client']} per client, "
             f"streams in {results['message_frames']}-frame messages "
             f"{pace}, --max-batch-delay-ms {results['delay_ms']}, {threads} per server, "
             f"--backend {results.get('backend', 'auto')}"
             f"{', --shape-buckets ' + results['shape_buckets'] if 'shape_buckets' in results else ''}"
             f"{'; each cell run once untimed first (--warm)' if results.get('warm') else ''}.", "",
             "| model | mode | clients | server | audio s / s | vs batch 1 | first audio p50 / p99 ms | "
             "latency p50 / p99 ms | mean batch | worker busy | model ms / audio s | worker CPU share | "
             "mean queue wait ms |", "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for cell in results["cells"]:
        for label, key in ((f"batch {results['max_batch']}", "batched"), ("batch 1", "single")):
            r = cell[key]
            ratio = f"{cell['batched']['throughput'] / cell['single']['throughput']:.2f}x" if key == "batched" else ""
            lines.append(f"| {cell['model']} | {r['mode']} | {r['clients']} | {label} | {r['throughput']:.2f} | "
                         f"{ratio} | {r['first_audio_p50_ms']:.0f} / {r['first_audio_p99_ms']:.0f} | "
                         f"{r['latency_p50_ms']:.0f} / {r['latency_p99_ms']:.0f} | {r['mean_batch']:.2f} | "
                         + (f"{r['busy']:.0%} | {r['model_ms_per_audio_s']:.1f} | {r['worker_cpu_share']:.0%} | "
                            f"{r['mean_wait_ms']:.1f} |" if "busy" in r else "- | - | - | - |"))  # older results
    for name, c in results.get("model_alone", {}).items():
        lines.append(f"\nThe model alone, {name} (in-process, no server, {c['backend']}): {c['batch']} streaming "
                     f"windows of {c['window_frames']} frames in one pass take {c['batched_ms_per_window']:.1f} "
                     f"ms a window, one at a time {c['alone_ms_per_window']:.1f} ms ({c['ratio']:.2f}x)"
                     + (f"; a shape's first pass: {c['first_call_ms']['alone']:.1f} ms for one window, "
                        f"{c['first_call_ms']['batched']:.1f} ms for the batch" if "first_call_ms" in c else "") + ".")
    return "\n".join(lines) + "\n"
