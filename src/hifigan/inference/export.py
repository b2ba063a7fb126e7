"""The library of `hifigan export` (the command's options: cli/export.py): the inference generator as ONNX or
TorchScript, with dynamic batch and time axes.

Both formats hold the `FusedGenerator` rewrite (weight norm and the MRF mean folded into the weights) of a generator
that describes its layers, and the module itself, traced, of one that does not (hifigan.models.generators):
input `mel` float32 [batch, num_mels, frames], output `audio` float32 [batch, frames * hop]. That is the shape of
`Vocoder`'s batched output and of what ONNX vocoder runtimes read (sherpa-onnx's HiFi-GAN vocoder, espnet_onnx's):
mono audio has no channel axis outside the generator, whose [batch, 1, samples] the training losses need.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from hifigan.config import HifiganConfig, load_config
from hifigan.errors import HifiganError
from hifigan.files.atomic import atomic_paths
from hifigan.files.write_failures import write_failure
from hifigan.inference.config_fit import check_fits
from hifigan.inference.export_check import CONTEXT, check_model_file
from hifigan.inference.export_facts import input_facts, with_onnx_facts
from hifigan.inference.export_frontend import frontend_path
from hifigan.inference.fused import LAYERS as FUSED_LAYERS
from hifigan.inference.fused import FusedGenerator
from hifigan.models.generators import layer_description
from hifigan.models.receptive_field import own_field
from hifigan.runtime.extras import optional_import

FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17
_TRACE_FRAMES = 32  # example length used for tracing; every length works afterwards
_CHECK_FRAMES = 19  # another length the trace of a generator without layers() must compute alike


class _Mono(nn.Module):
    """[batch, num_mels, frames] -> [batch, frames * hop]: the generator's output without its channel axis."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.inner(mel)[:, 0]


@contextlib.contextmanager
def _modes_kept(generator: nn.Module) -> Iterator[None]:
    """Exporting runs `generator` in eval mode; the caller's module gets back every submodule's mode as it was."""
    modes = [(module, module.training) for module in generator.modules()]
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _inference_module(generator: nn.Module) -> nn.Module:
    """What the file holds: the fused rewrite when the generator describes its layers, else the module itself;
    either without the channel axis (_Mono)."""
    layers = layer_description(generator)
    if layers is None:
        return _Mono(generator.eval()).eval()
    if (lack := layers.missing(FUSED_LAYERS)) is not None:  # said for export: it has no backend to choose
        raise HifiganError(None, f"cannot export {type(generator).__name__}: the file holds the fused generator, "
                                 f"which does not implement {lack[0]} ({lack[1]}); Vocoder(backend='eager') runs "
                                 "this generator in Python")
    return _Mono(FusedGenerator(generator, layout="1d")).eval()


def _example(generator: nn.Module, num_mels: int | None, frames: int = _TRACE_FRAMES, batch: int = 1
             ) -> torch.Tensor:
    """A mel to trace with: num_mels bins (default: the HiFi-GAN generator's conv_pre inputs), the weights' dtype (a
    float64 generator traces in float64)."""
    if num_mels is None:
        conv_pre = getattr(generator, "conv_pre", None)
        if not isinstance(conv_pre, nn.Conv1d):
            raise HifiganError(None, f"exporting {type(generator).__name__} needs num_mels (its config's)")
        num_mels = conv_pre.in_channels
    dtype = next(generator.parameters()).dtype
    return torch.randn(batch, num_mels, frames, dtype=dtype, generator=torch.Generator().manual_seed(0)) - 3


def _trace(model: nn.Module, generator: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """`model` traced on `example`. The module itself (no layers()) is checked at a second length: a trace keeps
    the Python decisions its forward made at the length it saw (one that does not trace is a one-line error)."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (example,), check_trace=False)
        if model.inner is generator:
            other = _example(generator, example.shape[1], _CHECK_FRAMES)
            expected, got = model(other), traced(other)
            if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
                raise HifiganError(None, f"{type(generator).__name__} does not trace: traced at {_TRACE_FRAMES} "
                                         f"frames, it computes something else at {_CHECK_FRAMES} (its forward "
                                         "depends on the input length in Python)")
    return traced


def require_format(fmt: str) -> None:
    """Import now what writing `fmt` needs beyond torch (ONNX: the onnx package, the 'onnx' extra), so that a
    missing package fails in one line before any work."""
    if fmt == "onnx":
        optional_import("onnx", "ONNX export")
        optional_import("onnxruntime", "ONNX export")  # the written file is run before it is renamed into place


def onnx_bytes(generator: nn.Module, num_mels: int | None = None) -> bytes:
    """The inference generator as an ONNX model (bytes): mel [batch, num_mels, frames] -> audio [batch, samples],
    time and batch axes dynamic."""
    require_format("onnx")  # torch.onnx's exporter writes the model with the onnx package
    with _modes_kept(generator):
        model, example = _inference_module(generator), _example(generator, num_mels)
        if model.inner is generator:
            _trace(model, generator, example)  # the exporter traces alike: a forward that does not trace fails here
        return _onnx_export(model, example)


def _onnx_export(model: nn.Module, example: torch.Tensor) -> bytes:
    """`model` (an _inference_module) as ONNX bytes, batch and time axes dynamic."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation notices
        torch.onnx.export(
            model, (example,), buffer, input_names=["mel"], output_names=["audio"],
            dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 1: "samples"}},
            opset_version=ONNX_OPSET, dynamo=False,
        )
    return buffer.getvalue()


def torchscript_module(generator: nn.Module, freeze: bool = False, num_mels: int | None = None
                       ) -> torch.jit.ScriptModule:
    """The inference generator traced to TorchScript (frozen for in-process use when `freeze`): [batch, num_mels,
    frames] -> [batch, frames * hop]."""
    with _modes_kept(generator):
        traced = _trace(_inference_module(generator), generator, _example(generator, num_mels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.freeze(traced) if freeze else traced


def _float32(generator: nn.Module) -> nn.Module:
    """`generator` in float32, as the files promise: a float32 copy of one in another dtype (a float64 ONNX model
    has no Conv kernel in ONNX Runtime), the caller's module left as it is."""
    tensors = [*generator.parameters(), *generator.buffers()]
    if all(t.dtype == torch.float32 for t in tensors if t.is_floating_point()):
        return generator
    return copy.deepcopy(generator).float()


def _check_mel(generator: nn.Module, num_mels: int | None) -> torch.Tensor:
    """The mel a written file is checked on: batch 2 (the trace's is 1), a few frames (CONTEXT) beyond the receptive
    field (30 for V1), so that some audio sees no padding; _CHECK_FRAMES for a generator that gives no field."""
    field = own_field(generator)
    frames = _CHECK_FRAMES if field is None else field[0].left + field[0].right + CONTEXT
    return _example(generator, num_mels, frames, batch=2)


def export_generator(generator: nn.Module, fmt: str, out: str | os.PathLike, num_mels: int | None = None,
                     config: str | os.PathLike | HifiganConfig | None = None, frontend: bytes | None = None) -> None:
    """Write `generator` (weight norm folded) as `fmt` ("onnx" or "torchscript") to `out`, atomically, in float32
    whatever the generator's dtype. With its `config`, the file records the mel the model takes (export_facts:
    ONNX metadata_props, TorchScript extra files). `num_mels`: the config's, needed for a generator without the
    HiFi-GAN generator's conv_pre (a config gives its own). The written file is run (onnxruntime, torch.jit.load)
    against the eager generator before it is renamed into place: a mismatch is a one-line error and no file.
    `frontend`: the model's checked mel front-end (export_frontend.frontend_bytes), written beside `out` as
    NAME.mel.onnx with it as a unit (hifigan.files.atomic.atomic_paths): a failure leaves neither new file. A config
    that does not describe the generator (config_fit.check_fits) is refused, as Vocoder refuses it; a fork's that
    lists more dilations than the official code built is recorded as built. `config`: a HifiganConfig, or a
    preset's name or a config file's path, as Vocoder takes it."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    config = None if config is None else load_config(config)
    if config is not None and (layers := layer_description(generator)) is not None:
        # the file records the config as its input: it must be this model's, and is recorded as the model is built
        config = check_fits(generator, layers, config)
    facts = {} if config is None else input_facts(config)
    num_mels = config.num_mels if config is not None else num_mels
    generator = _float32(generator)
    targets = [Path(out)] if frontend is None else [Path(out), frontend_path(out)]
    with _modes_kept(generator), atomic_paths(targets) as (tmp, *frontend_tmp):
        if fmt == "onnx":
            tmp.write_bytes(with_onnx_facts(onnx_bytes(generator, num_mels), facts))
        else:
            # Into memory first: a failed write inside torch.jit.save's C++ writer (a full disk) aborts the process.
            buffer = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still the format asked
                torch.jit.save(torchscript_module(generator, num_mels=num_mels), buffer, _extra_files=facts)
            tmp.write_bytes(buffer.getvalue())
        check_model_file(tmp, fmt, _Mono(generator).eval(), _check_mel(generator, num_mels), out)
        for path in frontend_tmp:
            try:
                path.write_bytes(frontend)
            except OSError as e:  # named after the front-end (atomic_paths names an unnamed failure after the model)
                raise write_failure(targets[1], e) from None
