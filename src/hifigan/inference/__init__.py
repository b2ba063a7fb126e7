"""Inference: the Vocoder, its engines (fused, tiled, ONNX, TorchScript), exact streaming, export and bench.

One idea per module; docs/design.md's package layout says what each one owns (a test keeps that list whole). Where to
start reading: vocoder.py (`Vocoder`), engines.py (backend choice and building), streaming.py, packing.py (how mels
of many lengths share passes). The names below import lazily, so the CLI reads the backend names without importing
torch.

One output shape for users: mono audio without a channel axis. `Vocoder` turns [num_mels, T] into [T * hop] and
[B, num_mels, T] into [B, T * hop]; the exported ONNX / TorchScript graphs take [B, num_mels, T] and return
[B, T * hop]. Only the generator module itself (and the engines' runners inside) keep the [B, 1, T * hop] that
training needs.
"""

from __future__ import annotations

import importlib
from typing import Any

from hifigan.inference.choices import BACKENDS, BENCH_BACKENDS, CPU_ONLY, CUDA_ONLY, HALF_BACKENDS

_LAZY = {
    "Vocoder": "vocoder", "build_runner": "engines", "resolve_backend": "engines",
    "resolve_precision": "engines", "PRECISIONS": "engines", "ENGINE_LAYERS": "engines",
}
__all__ = ["BACKENDS", "BENCH_BACKENDS", "CPU_ONLY", "CUDA_ONLY", "HALF_BACKENDS", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"hifigan.inference.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hifigan.inference' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
