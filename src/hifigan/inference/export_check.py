"""An exported file is run as its user will run it (onnxruntime, torch.jit.load) and compared with what it exports
before it is renamed into place: an exporter defect (a dropped constant, a wrong padding) is a one-line error and no
file, not a file that vocodes wrong. `compare` is the one comparison of both exports (model and mel front-end)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hifigan.arrays.pcm import MAX_WAV_VALUE
from hifigan.errors import HifiganError
from hifigan.messages.plural import count
from hifigan.runtime.extras import optional_import

# The model file against the eager generator, relative to the audio's peak. Float32 rounding (unit 6e-8) of the fused
# rewrite's reordered sums, through V1's ~80 convolutions, gives on the check's mel 4e-6 (lj-v1) and 1e-5
# (universal-v1) in ONNX Runtime, 1.5e-6 and 8e-7 in TorchScript, 6e-7 on tiny generators; 2.6e-5 at most on a whole
# LJ001-0002 mel. The bound is the files' promise (docs/export.md: eager within 1e-4); a weight or constant changed by
# 0.1% gives 1e-3.
TOLERANCE = 1e-4
QUIET = 1 / MAX_WAV_VALUE  # audio whose peak is below one int16 step is judged against that step, not its own peak
CONTEXT = 4  # the check's mel: the receptive field (left + right frames) and this many frames more


def compare(got: np.ndarray, expected: np.ndarray, *, subject: str, reference: str, unit: str, where: str,
            scale: str, tolerance: float, floor: float = 1e-30, path: str | os.PathLike | None = None) -> None:
    """`got` has `expected`'s shape and values within `tolerance` of its largest |value| (at least `floor`); else a
    one-line HifiganError: "{subject} gives 7 {unit}s for {where}, {reference} 8" (`unit` singular, counted) or
    "{subject} differs from {reference} by 0.03 of {scale} at {where} (more than 1e-05)"."""
    if got.shape != expected.shape:
        if got.shape[:-1] == expected.shape[:-1]:
            raise HifiganError(path, f"{subject} gives {count(got.shape[-1], unit)} for {where}, {reference} "
                                     f"{expected.shape[-1]}")
        raise HifiganError(path, f"{subject} gives shape {tuple(got.shape)} for {where}, {reference} "
                                 f"{tuple(expected.shape)}")
    error = float(np.max(np.abs(got - expected))) / max(float(np.max(np.abs(expected))), floor)
    if not error <= tolerance:  # NaN fails too
        raise HifiganError(path, f"{subject} differs from {reference} by {error:.2g} of {scale} at {where} (more "
                                 f"than {tolerance:g})")


def onnx_session(model: bytes | Path, what: str) -> Any:
    """An exported ONNX file (`model`: its bytes or path) as its user runs it: onnxruntime's CPU provider, default
    options, its log at errors only (the command says one line). `what`: the check, for a missing package's line."""
    ort = optional_import("onnxruntime", what)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])


def run_file(path: Path, fmt: str, mel: torch.Tensor) -> np.ndarray:
    """The exported model file at `path` run on float32 `mel`: ONNX by onnxruntime's CPU provider, TorchScript
    loaded by torch.jit.load."""
    if fmt == "onnx":
        return onnx_session(path, "checking the exported model").run(["audio"], {"mel": mel.numpy()})[0]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still the format asked
        return torch.jit.load(str(path), map_location="cpu")(mel).numpy()


def check_model_file(path: Path, fmt: str, eager: Callable[[torch.Tensor], torch.Tensor], mel: torch.Tensor,
                     out: str | os.PathLike) -> None:
    """The model file at `path` (the temporary file of `out`) computes `eager`'s [batch, samples] audio from `mel`
    within TOLERANCE of its peak; else a one-line HifiganError naming `out`."""
    with torch.no_grad():
        expected = eager(mel).numpy()
    compare(run_file(path, fmt, mel), expected, subject=f"the exported {fmt} file", reference="the eager generator",
            unit="sample", where=count(mel.shape[-1], "frame"), scale="the audio's peak", tolerance=TOLERANCE,
            floor=QUIET, path=out)
