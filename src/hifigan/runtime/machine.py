"""The machine: what a benchmark records of it, and which half precisions its CPU computes in hardware.

Figures compare only within one machine, and a virtual machine's CPU name is often just its vendor's ("AMD EPYC"),
so on x86 the record also names the CPU's family and model and the vector units that torch's CPU kernels use (AVX2,
AVX-512, AVX512-BF16, AVX512-FP16, AMX), which tell the CPUs these figures were taken on apart. Without the units
for a half precision, oneDNN emulates it: training refuses it there, inference says so (`cpu_computes`).
"""

from __future__ import annotations

import os
import platform
from typing import Any

import torch

from hifigan.messages.plural import count

# /proc/cpuinfo flags of the vector units that set torch's CPU speed, and their names in a record, in this order.
ISA_FLAGS = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_bf16": "AVX512-BF16", "avx512_fp16": "AVX512-FP16",
             "amx_tile": "AMX"}
# The units that compute a half precision in hardware (AMX: its tiles take bf16 on every CPU that has them). Without
# them oneDNN emulates it: on a 2-core Zen 4, V3's `fused` in fp16 took 20x its fp32 time, and in bf16 with oneDNN
# held to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2, as on a Zen 3) 22x (`hifigan bench --config v3 --seconds 2`).
NATIVE_UNITS = {"bf16": ("AVX512-BF16", "AMX"), "fp16": ("AVX512-FP16",)}
# torch's own probes of some of those units, for where /proc/cpuinfo is not there to read.
TORCH_PROBES = {"AVX512-BF16": "_is_avx512_bf16_supported", "AMX": "_is_amx_tile_supported"}


def cpu_identity(cpuinfo: str | None = None) -> dict[str, Any]:
    """The first CPU of `cpuinfo` (/proc/cpuinfo's text; read when None): `cpu` (its model name, else the platform's
    processor), `cpu_id` ("family F model M" on x86, else None) and `isa` (the ISA_FLAGS names it has)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:  # not Linux
            cpuinfo = ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            if fields:
                break  # the first processor's block is enough: the others repeat it
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    family, model = fields.get("cpu family"), fields.get("model")
    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name") or platform.processor() or platform.machine() or "unknown",
            "cpu_id": f"family {family} model {model}" if family and model else None,
            "isa": [name for flag, name in ISA_FLAGS.items() if flag in flags]}


def cpu_computes(precision: str, isa: list[str] | None = None) -> bool:
    """Whether a CPU with vector units `isa` (this one's when None) computes `precision` (fp32, bf16, fp16) in
    hardware; fp32 always."""
    if precision not in NATIVE_UNITS:
        return True
    if isa is None:
        isa = cpu_identity()["isa"] + [name for name, probe in TORCH_PROBES.items()
                                       if getattr(torch.cpu, probe, lambda: False)()]
    return any(unit in isa for unit in NATIVE_UNITS[precision])


def emulated_message(precision: str) -> str:
    """Why `precision` is slow on this CPU, in words."""
    return (f"this CPU has no native {precision} arithmetic ({' or '.join(NATIVE_UNITS[precision])}), so oneDNN "
            "emulates it")


def machine_info(device: str | torch.device = "cpu") -> dict[str, Any]:
    """The record: the CPU (cpu_identity), cores, torch's threads, library versions, and the GPU when `device` is
    one."""
    try:
        import onnxruntime

        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = None
    info = {
        **cpu_identity(), "cores": os.cpu_count(), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "onnxruntime": ort_version, "python": platform.python_version(), "platform": platform.platform(),
    }
    if torch.device(device).type == "cuda":
        info.update(device=str(device), gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    return info


def cpu_text(machine: dict[str, Any]) -> str:
    """The CPU of a record in words: "AMD EPYC (family 25 model 17: AVX2, AVX-512, AVX512-BF16)"; records written
    before the identity was kept give their name alone."""
    details = [part for part in (machine.get("cpu_id"), ", ".join(machine.get("isa") or [])) if part]
    return f"{machine['cpu']} ({': '.join(details)})" if details else machine["cpu"]


def machine_text(machine: dict[str, Any]) -> str:
    """The machine of a record, for a table's title."""
    gpu = f"{machine['gpu']} (CUDA {machine['cuda']}), " if "gpu" in machine else ""
    return (f"{gpu}{cpu_text(machine)}, {count(machine['cores'], 'core')}, {count(machine['threads'], 'thread')}, "
            f"torch {machine['torch']}")
