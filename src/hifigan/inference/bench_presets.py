"""`hifigan bench --presets`: one row per preset config (random weights, its own rate, hop and size), so that a new
rate's cost is measured beside V1's and V3's in the same run."""

from __future__ import annotations

from typing import Any

from hifigan.inference.bench import run_bench
from hifigan.messages.columns import aligned
from hifigan.runtime.machine import machine_info, machine_text
from hifigan.runtime.threads import intra_op_threads

HEADER = ["preset", "rate", "hop", "audio s", "params M", "eager x RT", "backend", "x RT", "speedup", "look-ahead ms"]


def run_preset_bench(names: list[str], seconds: float, repeats: int, backends: tuple[str, ...],
                     threads: int) -> dict[str, Any]:
    """`run_bench` (no memory subprocesses) for each preset in turn (a preset's name means the package's file, as
    config.load_preset reads it; another name, a config file); each row keeps its fastest non-eager backend."""

    from hifigan.config import load_config
    from hifigan.config.files import preset_path
    from hifigan.models.generators import meta_generator

    runs = []
    for name in names:
        source = str(preset_path(name) or name)  # the package's preset, not a file of its name in the current folder
        result = run_bench(source, seconds, repeats, backends, threads, memory=False)
        cfg = load_config(source)
        params = meta_generator(cfg)[1]
        result.update(config=name, preset=name, sampling_rate=cfg.sampling_rate, hop_size=cfg.hop_size,
                      parameters=params)
        runs.append(result)
    with intra_op_threads(threads):  # the record names the threads the runs used, not the caller's
        machine = machine_info()
    return {"machine": machine, "seconds": seconds, "repeats": repeats, "presets": runs}


def preset_rows(result: dict[str, Any]) -> list[list[str]]:
    """One row of text cells per preset, under HEADER: eager's x real time and the fastest other backend's."""
    rows = []
    for run in result["presets"]:
        by_name = {row["backend"]: row for row in run["backends"]}
        eager = by_name["eager"]
        best = max((r for r in run["backends"] if r["backend"] != "eager"), key=lambda r: r["x_real_time"],
                   default=eager)
        rows.append([run["preset"], f"{run['sampling_rate']}", f"{run['hop_size']}", f"{run['audio_seconds']:.3f}",
                     f"{run['parameters'] / 1e6:.2f}",
                     f"{eager['x_real_time']:.2f}", best["backend"], f"{best['x_real_time']:.2f}",
                     f"{best['speedup_vs_eager']:.2f}", f"{run['stream']['algorithmic_latency_ms']}"])
    return rows


def format_preset_table(result: dict[str, Any]) -> str:
    """The presets as a fixed-width table, with the machine and the audio asked for: each preset vocodes the whole
    frames nearest to it at its own hop (its row's audio s, what its x RT is of)."""
    title = (f"a random mel of the whole frames nearest {result['seconds']:g} s per preset (audio s), random weights, "
             f"median of {result['repeats']} interleaved runs; {machine_text(result['machine'])}")
    return "\n".join([title, *aligned([HEADER, *preset_rows(result)], left=(0, 5))])
