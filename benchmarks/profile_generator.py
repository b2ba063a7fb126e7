"""Where the generator's time goes: per-operator totals for eager PyTorch (torch.profiler) and ONNX Runtime.

usage: python benchmarks/profile_generator.py [v1|v2|v3] [seconds]
Random weights; eager, fused and ONNX Runtime on 2 threads, then eager and tiled on 1 thread (how `tiled-split`
runs each piece). Also prints the convolutions' share and their achieved GFLOP/s against the model's FLOP count.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tempfile
from collections import defaultdict

import torch

from hifigan.inference.bench import bench_inputs
from hifigan.inference.export import onnx_bytes
from hifigan.inference.fused import FusedGenerator
from hifigan.inference.tiled import TiledGenerator


def conv_gflop(generator: torch.nn.Module, frames: int) -> float:
    """Multiply-adds x 2 of every convolution for `frames` mel frames (time rate looked up by channel count)."""
    rates, cumulative = {}, 1
    for up in generator.ups:
        cumulative *= up.stride[0]
        rates[up.out_channels] = cumulative
    total = 0.0
    for m in generator.modules():
        if isinstance(m, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
            length = frames * rates.get(m.in_channels, 1)
            total += 2 * m.in_channels * m.out_channels * m.kernel_size[0] * length
    return total / 1e9


def torch_profile(model: torch.nn.Module, mel: torch.Tensor) -> dict[str, float]:
    with torch.inference_mode():
        model(mel)
        with torch.profiler.profile() as prof:
            model(mel)
    return {e.key: e.self_cpu_time_total / 1e6 for e in prof.key_averages()}


def ort_profile(generator: torch.nn.Module, mel: torch.Tensor) -> dict[str, float]:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tmp, "ort")
        session = ort.InferenceSession(onnx_bytes(generator), options, providers=["CPUExecutionProvider"])
        session.run(None, {"mel": mel.numpy()})
        session.run(None, {"mel": mel.numpy()})
        session.end_profiling()
        events = json.load(open(glob.glob(os.path.join(tmp, "ort*.json"))[0]))
    totals: dict[str, float] = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            totals[e["args"]["op_name"]] += e["dur"] / 2e6  # two runs, microseconds
    return dict(totals)


def show(title: str, totals: dict[str, float], gflop: float, conv_keys: tuple[str, ...]) -> None:
    wall = sum(totals.values())
    conv = sum(v for k, v in totals.items() if any(c in k for c in conv_keys))
    print(f"\n{title}: {wall:.3f} s of operator time; convolutions {conv:.3f} s ({100 * conv / wall:.0f}%), "
          f"{gflop / conv:.0f} GFLOP/s on {gflop:.1f} GFLOP")
    for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {k:<32} {v:8.3f} s  {100 * v / wall:5.1f}%")


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "v1"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
    torch.set_num_threads(2)
    _, generator, mel = bench_inputs(name, seconds)
    generator = generator.eval().remove_weight_norm()
    mel = mel[None]
    gflop = conv_gflop(generator, mel.shape[-1])
    show(f"{name} eager PyTorch", torch_profile(generator, mel), gflop, ("convolution",))
    show(f"{name} fused PyTorch", torch_profile(FusedGenerator(generator), mel), gflop, ("convolution",))
    show(f"{name} ONNX Runtime", ort_profile(generator, mel), gflop, ("Conv",))
    torch.set_num_threads(1)
    show(f"{name} eager PyTorch, 1 thread", torch_profile(generator, mel), gflop, ("convolution",))
    tiled = TiledGenerator(FusedGenerator(generator))
    show(f"{name} tiled PyTorch, 1 thread", torch_profile(tiled, mel), gflop, ("convolution",))


if __name__ == "__main__":
    main()
