"""The inference backends: which one runs a model, and building it.

Backends (all compute the same function; tests hold them to 1e-4 of `eager` in float32, and all but the ONNX ones
to 1e-14 in float64: a float64 generator runs in float64 end to end):
- `eager`: the generator with weight norm folded, in PyTorch (the reference and the baseline; runs any generator);
- `fused`: `hifigan.inference.fused.FusedGenerator` (MRF mean folded, in-place activations, channels-last 2-D
  convs);
- `fused-split`: `fused`, with a long input cut in time (exact receptive-field context) into one piece per
  thread, each piece run single-threaded in its own worker (CPU only); short inputs run as `fused`;
- `invariant`: `fused` with every convolution one matrix product (`hifigan.inference.gemm`), so that a sample's float32
  rounding does not depend on the batch, the length, the window or the threads: batched, streamed, chunked and
  split outputs equal the one-shot output bit for bit, in float32 too, at ~3x the time of `tiled-split`; with
  `fused-split`'s time split (CPU only);
- `jit`: the fused generator traced and frozen with TorchScript (CPU only);
- `onnx`: the fused generator exported to ONNX and run by ONNX Runtime (CPU only);
- `onnx-split`: `onnx` with the same time split over single-threaded sessions (CPU only);
- `tiled`: `hifigan.inference.tiled.TiledGenerator`, the fused weights run stage by stage on cache-sized time
  tiles with oneDNN's fused residual adds (CPU only);
- `tiled-split`: `tiled` with the time split of `fused-split` (CPU only);
- `cuda-graph`: `fused` captured as a CUDA graph per input shape and replayed (`hifigan.inference.graphs`; CUDA
  only): one launch for the whole generator, its memory allocated once;
- `cuda-compiled`: `cuda-graph` over the fused generator compiled by torch.compile, which fuses each convolution's
  bias add with the activation and residual add after it (CUDA only; the first call compiles).
`auto` = `tiled-split` on the CPU, `fused` on other devices (measured: docs/inference.md, `hifigan bench`); when
that engine does not implement a layer of the model (see `hifigan.models.layers`), `auto` runs `eager` and says
so in a RuntimeWarning (the CLI: one line on stderr), and naming the engine is an error that names the layer. A
generator that does not describe its layers at all (hifigan.models.generators) runs on `eager` only, for the same
reason.

Precision: `fp32` everywhere; `fp16` and `bf16` (weights and activations in half precision, output returned as
float32) on the `eager`, `fused`, `cuda-graph` and `cuda-compiled` backends, where `auto` picks `fused`.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import warnings
from collections.abc import Callable

import torch
from torch import nn

from hifigan.errors import HifiganError
from hifigan.inference import fused, tiled
from hifigan.inference.choices import BACKENDS, CPU_ONLY, CUDA_ONLY, HALF_BACKENDS, PRECISION_DTYPES
from hifigan.inference.streaming import ReceptiveField, time_splits
from hifigan.messages.option_names import setting
from hifigan.models.layers import GeneratorLayers, unsupported_message
from hifigan.runtime.extras import optional_import
from hifigan.runtime.machine import cpu_computes, emulated_message

PRECISIONS = {name: getattr(torch, dtype) for name, dtype in PRECISION_DTYPES.items()}
# The layer kinds each backend's engine implements; None: all (it runs the model's own forward).
ENGINE_LAYERS: dict[str, frozenset[str] | None] = {
    "eager": None,
    **dict.fromkeys(("fused", "fused-split", "invariant", "jit", "onnx", "onnx-split", "cuda-graph",
                     "cuda-compiled"), fused.LAYERS),
    **dict.fromkeys(("tiled", "tiled-split"), tiled.LAYERS),
}


def resolve_precision(precision: str) -> torch.dtype:
    """The dtype a precision name (fp32, fp16, bf16) stands for."""
    if precision not in PRECISIONS:
        raise HifiganError(None, f"unknown precision {precision!r} (choose from {', '.join(PRECISIONS)})")
    return PRECISIONS[precision]


def resolve_backend(
    backend: str, device: torch.device, precision: str = "fp32", layers: GeneratorLayers | None = None,
    undescribed: str | None = None, *, cli: bool,
) -> str:
    """The concrete backend `auto` stands for on `device` at `precision` (see the module docstring); checks both,
    and with `layers` that the backend implements every layer of the model (`auto`: else `eager`, with a notice).
    `undescribed`: the class of a generator without layers(), which no engine can represent: `auto` is `eager`
    (the caller says so), naming an engine is an error. `cli`: settings named as options (`--device cuda`), else as
    arguments (`device='cuda'`)."""
    if backend not in BACKENDS:
        raise HifiganError(None, f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if backend in CPU_ONLY and device.type != "cpu":
        raise HifiganError(None, f"backend {backend} runs on the CPU only")
    if backend in CUDA_ONLY and device.type != "cuda":
        raise HifiganError(None, f"backend {backend} runs on CUDA only ({setting('device', 'cuda', cli)})")
    half = resolve_precision(precision) != torch.float32
    if half and backend not in (*HALF_BACKENDS, "auto"):
        raise HifiganError(None, f"backend {backend} runs in fp32 only ({precision}: use {', '.join(HALF_BACKENDS)})")
    if half and device.type == "cpu" and not cpu_computes(precision):  # right, only slow: said, not refused
        warnings.warn(f"{setting('precision', precision, cli)}: {emulated_message(precision)}, many times slower than "
                      "fp32 (fp32 is the fast choice on this CPU)", RuntimeWarning, stacklevel=3)  # the CLI: one line
    if undescribed is not None:
        if backend not in ("auto", "eager"):
            raise HifiganError(None, f"backend {backend} cannot run {undescribed}: it has no layer description "
                                     "(layers()) for an engine to follow; backend eager runs any generator")
        return "eager"
    chosen = backend if backend != "auto" else "tiled-split" if device.type == "cpu" and not half else "fused"
    supported = ENGINE_LAYERS[chosen]
    lack = None if layers is None or supported is None else layers.missing(supported)
    if lack is None:
        return chosen
    if backend != "auto":
        layers.check(supported, chosen)  # raises, naming the layer (lack is one): GeneratorLayers' own refusal
    warnings.warn(f"backend auto: {unsupported_message(chosen, *lack)}; running eager", RuntimeWarning,
                  stacklevel=3)  # the CLI: one line
    return "eager"


def require_backend(backend: str) -> None:
    """Import now what `backend` runs on beyond torch (onnx, onnx-split: the onnx exporter and ONNX Runtime, the
    'onnx' extra; `auto` never needs them), so that a missing package fails in one line before any work."""
    if backend in ("onnx", "onnx-split"):
        for module in ("onnx", "onnxruntime"):
            optional_import(module, f"backend {backend}")


def _ort_session(model: bytes, threads: int):
    ort = optional_import("onnxruntime", "ONNX Runtime")

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


Runner = Callable[[torch.Tensor], torch.Tensor]  # [B, num_mels, T] -> [B, 1, T * hop]
# torch.set_num_threads sets the calling thread's intra-op count and the process-wide default that a thread takes at
# its first parallel call: while a split pool's workers set theirs to 1, another pool's set-up in a new thread (a
# copy per worker thread, built at once) would take 1 for good (no split, other float rounding). So pools are set
# up one at a time.
_THREAD_COUNT_LOCK = threading.Lock()


class _TimeSplit:
    """Cut long inputs in time (exactly: each piece carries the receptive field as context) into one piece
    per thread, each vocoded single-threaded in its own worker. Two cores then never wait on each other
    inside a convolution, as they do when they share one, at the cost of computing the context twice.
    Inputs too short to split (streaming chunks) run whole: multi-threaded in the caller's thread, or with
    `whole_in_worker` single-threaded on one worker (the `invariant` engine, whose every GEMM runs on one thread)."""

    def __init__(
        self, whole: Runner, piece: Runner, field: ReceptiveField, hop: int, single_threaded_torch: bool,
        whole_in_worker: bool = False,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.whole, self.piece, self.field, self.hop = whole, piece, field, hop
        self.whole_in_worker = whole_in_worker  # an input too short to split runs on one worker's single thread
        self._cpu, self._cpu_lock = 0.0, threading.Lock()  # CPU seconds the workers spent in tasks (cpu_seconds)
        with _THREAD_COUNT_LOCK:  # the caller's count read, and the workers' set, outside another pool's set-up
            self.threads = torch.get_num_threads()
            if self.threads < 2:
                self.pool = None
            elif single_threaded_torch:  # each worker's intra-op pool: 1 thread (OpenMP settings are per thread)
                barrier = threading.Barrier(self.threads)
                self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="hifigan-split",
                                               initializer=_one_intra_op_thread)
                for f in [self.pool.submit(barrier.wait) for _ in range(self.threads)]:
                    f.result()  # all workers exist now
                torch.set_num_threads(self.threads)  # the default for threads started later stays as it was
            else:
                self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="hifigan-split")

    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        batch, _, frames = mel.shape
        # Split only where the duplicated context (left + right per cut) stays under ~1/4 of the work.
        parts = min(self.threads, frames // (4 * (self.field.left + self.field.right) + 1))
        if self.pool is None or max(parts, 1) * batch < 2:
            if self.pool is not None and self.whole_in_worker:
                return self.pool.submit(self._timed, _inferring, self.whole, mel).result()
            with torch.autocast(mel.device.type, enabled=False):  # float32 as in the workers, whatever the length
                return self.whole(mel)
        pieces = time_splits(frames, max(parts, 1), self.field)
        tasks = [(b, piece) for b in range(batch) for piece in pieces]

        def run(task: tuple[int, tuple[int, int, int, int]]) -> torch.Tensor:
            b, (in_a, in_b, out_a, out_b) = task
            audio = self._timed(_inferring, self.piece, mel[b : b + 1, :, in_a:in_b].contiguous())
            return audio[0, 0, (out_a - in_a) * self.hop : (out_b - in_a) * self.hop]

        out = list(self.pool.map(run, tasks))
        n = len(pieces)
        return torch.stack([torch.cat(out[b * n : (b + 1) * n]) for b in range(batch)]).unsqueeze(1)

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds the pool's workers have spent running this engine's tasks (their own threads' time: the
        calling thread's is not in it), so that a caller can account the work it handed to them."""
        return self._cpu

    def _timed(self, fn: Callable[..., torch.Tensor], *args: object) -> torch.Tensor:
        start = time.thread_time()
        try:
            return fn(*args)
        finally:
            spent = time.thread_time() - start
            with self._cpu_lock:
                self._cpu += spent


def _one_intra_op_thread() -> None:
    """Give the calling pool worker one intra-op thread for good. torch sets a thread's OpenMP count from the
    process-wide one at the thread's first parallel call (at::internal::lazy_init_num_threads), so that call is made
    here, while the process-wide count is 1: made later, after the caller restores its count, it would give every
    worker the caller's count, and two workers on two cores would each run two threads."""
    torch.set_num_threads(1)
    torch.get_num_threads()


def _inferring(run: Runner, mel: torch.Tensor) -> torch.Tensor:
    """`run(mel)` under inference_mode: a pool worker's thread does not inherit the caller's mode."""
    with torch.inference_mode():
        return run(mel)


def _ort_runner(model: bytes, threads: int) -> Runner:
    session = _ort_session(model, threads)

    def run(mel: torch.Tensor) -> torch.Tensor:  # the exported [B, T * hop], as the runners' [B, 1, T * hop]
        return torch.from_numpy(session.run(None, {"mel": mel.detach().cpu().contiguous().numpy()})[0]).unsqueeze(1)

    return run


def build_runner(generator: nn.Module, backend: str, device: torch.device) -> Runner:
    """A function [B, num_mels, T] -> [B, 1, T * hop] computing `generator` (weight norm folded) on `backend`
    (`eager`: any generator; the engines: one that describes its layers, hifigan.models.layers, whose hop and
    receptive field cut the split backends' pieces)."""
    if backend == "eager":
        return generator
    layers = generator.layers()
    field, hop = layers.receptive_field(), layers.hop
    if backend in ("onnx", "onnx-split"):
        from hifigan.inference.export import onnx_bytes

        require_backend(backend)
        model = onnx_bytes(generator)
        whole = _ort_runner(model, torch.get_num_threads())
        if backend == "onnx":
            return whole
        return _TimeSplit(whole, _ort_runner(model, 1), field, hop, single_threaded_torch=False)
    if backend == "invariant":  # split like fused-split (bit-exact all the same), short inputs on one worker too:
        # every GEMM single-threaded (hifigan.inference.gemm)
        model = fused.FusedGenerator(generator, layout="gemm").to(device).eval()
        return _TimeSplit(model, model, field, hop, single_threaded_torch=True, whole_in_worker=True)
    if backend == "cuda-compiled" and importlib.util.find_spec("triton") is None:
        raise HifiganError(None, "backend cuda-compiled needs Triton (torch.compile's GPU kernels), which is not "
                                 "installed: torch's CUDA wheels bring it (pip install triton)")
    if backend in ("fused", "fused-split", "tiled", "tiled-split", "cuda-graph", "cuda-compiled"):
        model: torch.nn.Module = fused.FusedGenerator(generator, layout="2d").to(device).eval()
        if backend in CUDA_ONLY:
            from hifigan.inference.graphs import GraphedGenerator, compiled

            return GraphedGenerator(compiled(model) if backend == "cuda-compiled" else model)
        if backend.startswith("tiled"):
            model = tiled.TiledGenerator(model)
        if not backend.endswith("-split"):
            return model
        return _TimeSplit(model, model, field, hop, single_threaded_torch=True)
    from hifigan.inference.export import torchscript_module

    script = torchscript_module(generator, freeze=True)
    return lambda mel: script(mel).unsqueeze(1)  # the exported [B, T * hop], as the runners' [B, 1, T * hop]


