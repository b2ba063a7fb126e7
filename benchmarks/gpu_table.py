"""gpu_check's short table: one line per inference row and training check, from the JSON report."""

from __future__ import annotations

from typing import Any


def _f(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(data: dict[str, Any]) -> str:
    """Markdown tables: inference (x real time, speed against the official generator, error, memory), training."""
    checks = data["checks"]
    env = checks.get("environment", {}).get("result", {})
    card = env.get("gpu", data["device"])
    lines = [f"gpu_check on {card} (torch {env.get('torch')}, CUDA {env.get('cuda_runtime')})",
             "", "| config | backend | precision | x real time | vs official | max abs err | peak MB |",
             "|---|---|---|---|---|---|---|"]
    for name, entry in checks.items():
        if not name.startswith("inference/"):
            continue
        result = entry.get("result")
        if result is None:
            lines.append(f"| {name[10:]} | - | - | {entry.get('error')} | | | |")
            continue
        official = result["official"]
        lines.append(f"| {result['config']} | official-style | tf32 (torch default) | "
                     f"{official['x_real_time']:.0f} | 1.00 | {official['max_abs_err']:.2g} | - |")
        for row in result["rows"]:
            if "error" in row:
                lines.append(f"| {result['config']} | {row['backend']} | {row['precision']} | {row['error']} | | | |")
                continue
            backend = row["backend"] + (f" + {row['lever']}" if "lever" in row else "")
            lines.append(f"| {result['config']} | {backend} | {row['precision']} | {row['x_real_time']:.0f} | "
                         f"{row['speedup_vs_official']:.2f} | {row['max_abs_err']:.2g} | {_f(row['peak_mb'], '.0f')} |")
        if "batch" not in result:  # a lever's rows only
            continue
        for batch in (result["batch"], result.get("batch_fp16")):  # fp16: runs since it joined
            if batch is None:
                continue
            precision = batch.get("precision", "fp32")
            lines.append(f"| {result['config']} | batch of 16 ({batch['backend']}) | {precision} | "
                         f"{batch['x_real_time']:.0f} | {batch['speedup_vs_one_by_one']:.2f} vs one by one | "
                         f"{batch['max_abs_diff_vs_alone']:.2g} vs alone | {_f(batch['peak_mb'], '.0f')} |")
        if "new_lengths" in result:  # runs since shape buckets (none of docs/gpu.md's H200 runs)
            new = result["new_lengths"]
            off, on = new["off"]["round_s"][-1], new["on"]["round_s"][-1]
            lines.append(f"| {result['config']} | {new['mels_per_round']} new lengths one at a time "
                         f"({new['on']['backend']}) | default | - | shape buckets {off / on:.2f}x (last round: off "
                         f"{off:.2f} s, on {on:.2f} s) | - | - |")
            if "graph" in new:  # CUDA runs since the graphs' shared pool
                graph = new["graph"]["round_s"][-1]
                lines.append(f"| {result['config']} | {new['mels_per_round']} new lengths one at a time (cuda-graph, "
                             f"buckets) | default | - | last round {graph:.2f} s ({on / graph:.2f}x buckets alone) | "
                             f"{new['graph_max_abs_diff']:.2g} vs auto | - |")
    lines += ["", "| training or serving check | ok | figures |", "|---|---|---|"]
    for name, entry in checks.items():
        if not name.startswith(("train/", "serve/", "bench/", "threads/")):
            continue
        lines.append(f"| {name} | {'yes' if entry['ok'] else 'NO'} | {_summary(entry)} |")
    return "\n".join(lines)


def _floor(profile: dict[str, Any] | None) -> str:
    """The step profile's floors against the official step (runs before it have none)."""
    if profile is None:
        return ""
    if "error" in profile:
        return f", profile {profile['error'][:60]}"
    return (f", floors: kernels {profile['ours_total_to_official_step']:.2f}x, convolutions "
            f"{profile['ours_convolutions_to_official_step']:.2f}x")


def _summary(entry: dict[str, Any]) -> str:
    if "error" in entry:
        return entry["error"]
    r = entry["result"]
    if "skipped" in r:
        return f"skipped: {r['skipped']}"
    if "median_step_s" in r:
        return (f"{r['median_step_s']:.3f} s/step (batch {r['batch']} x {r['segment']}), peak "
                f"{_f(r['peak_gib'], '.1f')} GiB, mel L1 {r['mel_l1_first']:.3f} -> {r['mel_l1_last']:.3f}")
    if "criterion" in r:
        return "; ".join(f"{mode}: {m['broken']} of {r['tensors']} tensors break it (max rel. ours "
                         f"{m['ours_max_rel']:.1e}, official {m['official_max_rel']:.1e})"
                         for mode, m in r["modes"].items())
    if "target_ratio" in r:
        return "; ".join(f"{mode}: hifigan train's step {m['default_ratio']:.2f}x official (eager {m['ratio']:.2f}x, "
                         f"{m['ours']:.3f} vs {m['official']:.3f} s)"
                         + "".join(f", {lever} " + (f"{m[lever]['ratio_to_official']:.2f}x" if "error" not in m[lever]
                                                    else m[lever]["error"][:60])
                                   for lever in m if isinstance(m[lever], dict) and lever != "profile")
                         + _floor(m.get("profile"))
                         for mode, m in r["modes"].items())
    if "loop_step_s" in r:
        return (f"loop {r['loop_step_at_default_intervals_s']:.3f} s/step at the default intervals vs the step "
                f"{r['step_alone_s']:.3f} s ({r['ratio']:.2f}, target {r['target']}); DataLoader "
                f"{r['loader_batch_s']:.3f} s/batch, {r['workers']} workers; validation + checkpoint "
                f"{r['validation_and_checkpoint_s']:.1f} s")
    if "plain_s" in r:
        c = r["compile"]
        return (f"step {r['plain_s']:.3f} s, official {r['official_s']:.3f} s; compiled "
                + (f"{c['median_s']:.3f} s ({c['ratio_to_official']:.2f}x official, first {c['first_s']:.0f} s)"
                   if "error" not in c else c["error"][:100]))
    if "compile_gain" in r:
        return "V1 fp16 in the graph: " + ", ".join(
            f"{row['backend']} {row['x_real_time']:.0f}x (first call {row['first_call_s']:.1f} s, err "
            f"{row['max_abs_err']:.2g})" for row in r["rows"]) + f"; compile {r['compile_gain']:.2f}x"
    if "best_fp16" in r:
        return ", ".join(f"{b['backend']} {b['x_real_time']:.0f}x" for b in r["backends"]) + \
            f" real time (target fp16 {r['target_x_real_time']}x: {'met' if r['target_met'] else 'not met'})"
    if "batched_over_single" in r:
        alone = ", ".join(f"{name} windows {c['ratio']:.2f}x" + (f" (a new batch shape's first pass "
                          f"{c['first_call_ms']['batched']:.0f} ms)" if "first_call_ms" in c else "")
                          for name, c in r["model_alone"].items())
        return "batched / batch 1 throughput: " + ", ".join(
            f"{c['model']} {c['mode']} x{c['clients']} {c['ratio']:.2f}" + (
                f" (worker busy {c['busy'][0]:.0%} / {c['busy'][1]:.0%}, model ms per audio s "
                f"{c['model_ms_per_audio_s'][0]:.1f} / {c['model_ms_per_audio_s'][1]:.1f}, worker CPU share "
                f"{c['worker_cpu_share'][0]:.0%} / {c['worker_cpu_share'][1]:.0%})" if "busy" in c else "")
            for c in r["batched_over_single"]) + f"; model alone, 8 in one pass / one by one: {alone}"
    if "threads" in r:  # threads/graphs
        return f"{r['threads']} threads at once against alone: " + ", ".join(
            f"{row['backend']} ({row['config']}) " + (row["error"][:80] if "error" in row else
                                                       f"max abs diff {row['max_abs_diff']:.2g} over {row['calls']} "
                                                       f"calls, bit exact {row['bit_exact']}") for row in r["rows"])
    if "bit_exact" in r:
        return f"bit exact: {r['bit_exact']}, max abs diff {max(r['max_abs_diff'].values()):.2g}"
    if "returncode" in r:
        return f"exit {r['returncode']}, step {r.get('step')}, world {r.get('world_size')}, NCCL {r.get('nccl_seen')}"
    return "; ".join(r.get("failures", []))[:300]
