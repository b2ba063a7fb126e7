"""The library of `hifigan export` (the command's options: cli/export.py): the inference generator as ONNX or
TorchScript, with dynamic batch and time axes.

Both formats hold the `FusedGenerator` rewrite (weight norm and the MRF mean folded into the weights):
input `mel` float32 [batch, num_mels, frames], output `audio` float32 [batch, 1, frames * hop].
"""

from __future__ import annotations

import io
import os
import warnings

import torch

from hifigan.atomic import atomic_path
from hifigan.extras import optional_import
from hifigan.inference.fused import FusedGenerator
from hifigan.models import Generator

FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17
_TRACE_FRAMES = 32  # example length used for tracing; every length works afterwards


def _example(generator: Generator) -> torch.Tensor:
    weight = generator.conv_pre.weight  # a float64 generator traces in float64
    return torch.randn(1, generator.conv_pre.in_channels, _TRACE_FRAMES, dtype=weight.dtype)


def require_format(fmt: str) -> None:
    """Import now what writing `fmt` needs beyond torch (ONNX: the onnx package, the 'onnx' extra), so that a
    missing package fails in one line before any work."""
    if fmt == "onnx":
        optional_import("onnx", "ONNX export")


def onnx_bytes(generator: Generator) -> bytes:
    """The fused generator as an ONNX model (bytes), time and batch axes dynamic."""
    require_format("onnx")  # torch.onnx's exporter writes the model with the onnx package
    model = FusedGenerator(generator, layout="1d").eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation notices
        torch.onnx.export(
            model, (_example(generator),), buffer, input_names=["mel"], output_names=["audio"],
            dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}},
            opset_version=ONNX_OPSET, dynamo=False,
        )
    return buffer.getvalue()


def torchscript_module(generator: Generator, freeze: bool = False) -> torch.jit.ScriptModule:
    """The fused generator traced to TorchScript (frozen for in-process use when `freeze`)."""
    model = FusedGenerator(generator, layout="1d").eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (_example(generator),), check_trace=False)
        return torch.jit.freeze(traced) if freeze else traced


def export_generator(generator: Generator, fmt: str, out: str | os.PathLike) -> None:
    """Write `generator` as `fmt` ("onnx" or "torchscript") to `out`, atomically."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    with atomic_path(out) as tmp:
        if fmt == "onnx":
            tmp.write_bytes(onnx_bytes(generator))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still the format asked
                torch.jit.save(torchscript_module(generator), str(tmp))
