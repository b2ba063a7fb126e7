"""Vocoding: log-mel in, waveform out, on the fastest exact backend, one-shot, batched or streamed.

Backends (all compute the same function; tests hold them to 1e-4 of `eager` in float32, and all but the ONNX ones
to 1e-14 in float64: a float64 generator runs in float64 end to end):
- `eager`: the generator with weight norm folded, in PyTorch (the reference and the baseline);
- `fused`: `hifigan.fused.FusedGenerator` (MRF mean folded, in-place activations, channels-last 2-D convs);
- `fused-split`: `fused`, with a long input cut in time (exact receptive-field context) into one piece per
  thread, each piece run single-threaded in its own worker (CPU only); short inputs run as `fused`;
- `jit`: the fused generator traced and frozen with TorchScript (CPU only);
- `onnx`: the fused generator exported to ONNX and run by ONNX Runtime (CPU only);
- `onnx-split`: `onnx` with the same time split over single-threaded sessions (CPU only);
- `tiled`: `hifigan.tiled.TiledGenerator`, the fused weights run stage by stage on cache-sized time tiles with
  oneDNN's fused residual adds (CPU only);
- `tiled-split`: `tiled` with the time split of `fused-split` (CPU only).
`auto` = `tiled-split` on the CPU (fastest or tied in every `hifigan bench` run of V1, V2, V3 on 2 cores), `fused` on
other devices.

Precision: `fp32` everywhere; `fp16` and `bf16` (weights and activations in half precision, output returned as
float32) on the `eager` and `fused` backends, where `auto` picks `fused`. Half precision is for GPUs: see the README's
GPU figures for its error against float32.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from hifigan.checkpoint import load_generator
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.models import Generator
from hifigan.streaming import (
    DEFAULT_CHUNK_FRAMES,
    ReceptiveField,
    receptive_field,
    split_frames,
    stream,
    time_splits,
)

BACKENDS = ("auto", "eager", "fused", "fused-split", "jit", "onnx", "onnx-split", "tiled", "tiled-split")
CPU_ONLY = ("fused-split", "jit", "onnx", "onnx-split", "tiled", "tiled-split")
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
HALF_BACKENDS = ("eager", "fused")  # the backends that run in fp16/bf16 (the others are float32 graphs or kernels)


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch.device, with a clear error for an unknown name or when CUDA is asked for and absent."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise HifiganError(None, f"--device {device}: not a device (use cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise HifiganError(None, "--device cuda: CUDA is not available on this machine")
    return device


def resolve_precision(precision: str) -> torch.dtype:
    """The dtype a precision name (fp32, fp16, bf16) stands for."""
    if precision not in PRECISIONS:
        raise HifiganError(None, f"unknown precision {precision!r} (choose from {', '.join(PRECISIONS)})")
    return PRECISIONS[precision]


def resolve_backend(backend: str, device: torch.device, precision: str = "fp32") -> str:
    """The concrete backend `auto` stands for on `device` at `precision` (see the module docstring); checks both."""
    if backend not in BACKENDS:
        raise HifiganError(None, f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if backend in CPU_ONLY and device.type != "cpu":
        raise HifiganError(None, f"backend {backend} runs on the CPU only")
    half = resolve_precision(precision) != torch.float32
    if half and backend not in (*HALF_BACKENDS, "auto"):
        raise HifiganError(None, f"backend {backend} runs in fp32 only ({precision}: use {' or '.join(HALF_BACKENDS)})")
    if backend != "auto":
        return backend
    return "tiled-split" if device.type == "cpu" and not half else "fused"


def _ort_session(model: bytes, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


Run = Callable[[torch.Tensor], torch.Tensor]  # [B, num_mels, T] -> [B, 1, T * hop]


class _TimeSplit:
    """Cut long inputs in time (exactly: each piece carries the receptive field as context) into one piece
    per thread, each vocoded single-threaded in its own worker. Two cores then never wait on each other
    inside a convolution, as they do when they share one; the duplicated context costs a few percent.
    Inputs too short to split (streaming chunks) run whole, multi-threaded."""

    def __init__(self, whole: Run, piece: Run, field: ReceptiveField, hop: int, single_threaded_torch: bool) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.whole, self.piece, self.field, self.hop = whole, piece, field, hop
        self.threads = torch.get_num_threads()
        if self.threads < 2:
            self.pool = None
            return
        if single_threaded_torch:  # each worker's intra-op pool: 1 thread (OpenMP settings are per thread)
            barrier = threading.Barrier(self.threads)
            self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="hifigan-split",
                                           initializer=lambda: torch.set_num_threads(1))
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
            return self.whole(mel)
        pieces = time_splits(frames, max(parts, 1), self.field)
        tasks = [(b, piece) for b in range(batch) for piece in pieces]

        def run(task: tuple[int, tuple[int, int, int, int]]) -> torch.Tensor:
            b, (in_a, in_b, out_a, out_b) = task
            with torch.inference_mode():
                audio = self.piece(mel[b : b + 1, :, in_a:in_b].contiguous())
            return audio[0, 0, (out_a - in_a) * self.hop : (out_b - in_a) * self.hop]

        out = list(self.pool.map(run, tasks))
        n = len(pieces)
        return torch.stack([torch.cat(out[b * n : (b + 1) * n]) for b in range(batch)]).unsqueeze(1)


def _ort_runner(model: bytes, threads: int) -> Run:
    session = _ort_session(model, threads)

    def run(mel: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {"mel": mel.detach().cpu().contiguous().numpy()})[0])

    return run


def build_runner(
    generator: Generator, config: HifiganConfig, backend: str, device: torch.device
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function [B, num_mels, T] -> [B, 1, T * hop] computing `generator` (weight norm folded) on `backend`."""
    field, hop = receptive_field(config), config.upsample_factor
    if backend in ("onnx", "onnx-split"):
        from hifigan.export import onnx_bytes

        model = onnx_bytes(generator)
        whole = _ort_runner(model, torch.get_num_threads())
        if backend == "onnx":
            return whole
        return _TimeSplit(whole, _ort_runner(model, 1), field, hop, single_threaded_torch=False)
    if backend == "eager":
        return generator
    from hifigan.fused import FusedGenerator

    if backend in ("fused", "fused-split", "tiled", "tiled-split"):
        model: torch.nn.Module = FusedGenerator(generator, layout="2d").to(device).eval()
        if backend.startswith("tiled"):
            from hifigan.tiled import TiledGenerator

            model = TiledGenerator(model)
        if not backend.endswith("-split"):
            return model
        return _TimeSplit(model, model, field, hop, single_threaded_torch=True)
    from hifigan.export import torchscript_module

    return torchscript_module(generator, freeze=True)


class Vocoder:
    """A ready-to-run generator: eval mode, weight norm folded, no autograd, on the chosen backend."""

    def __init__(
        self, generator: Generator, config: HifiganConfig, device: str | torch.device = "cpu", backend: str = "auto",
        precision: str = "fp32",
    ) -> None:
        self.config = config
        self.device = resolve_device(device)
        self.backend = resolve_backend(backend, self.device, precision)
        self.precision, self.dtype = precision, resolve_precision(precision)
        if self.dtype == torch.float32 and next(generator.parameters()).dtype == torch.float64:
            self.dtype = torch.float64  # a float64 generator (the exactness tests) runs in float64 end to end
            if self.backend.startswith("onnx"):
                raise HifiganError(None, f"backend {self.backend} runs float32 only (ONNX Runtime has no float64 conv)")
        self.io_dtype = torch.float64 if self.dtype == torch.float64 else torch.float32  # of mels in and audio out
        self.generator = generator.to(self.device).eval().remove_weight_norm()
        self.generator.requires_grad_(False)
        self._runner = build_runner(self.generator, config, self.backend, self.device)
        if precision != "fp32":  # eager or fused (resolve_backend): modules, cast in place
            self._runner.to(self.dtype)
        self.receptive_field: ReceptiveField = receptive_field(config)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        config: str | os.PathLike | HifiganConfig | None = None,
        device: str | torch.device = "cpu",
        backend: str = "auto",
        precision: str = "fp32",
    ) -> Vocoder:
        """Our checkpoint (config inside) or an official `g_*` file (config required)."""
        generator, cfg = load_generator(path, config)
        return cls(generator, cfg, device, backend, precision)

    @classmethod
    def from_pretrained(cls, name: str, device: str | torch.device = "cpu", backend: str = "auto") -> Vocoder:
        """A registered pretrained generator (`lj-v1`, `universal-v1`; see hifigan.pretrained), hash-checked."""
        from hifigan.pretrained import load_pretrained

        generator, cfg = load_pretrained(name)
        return cls(generator, cfg, device, backend)

    @property
    def hop_size(self) -> int:
        return self.config.upsample_factor

    def _run(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, T] -> [B, T * hop] on the CPU, in `self.io_dtype`."""
        with torch.inference_mode():
            return self._runner(mel.to(self.device, self.dtype)).squeeze(1).to(self.io_dtype).cpu()

    def set_mel_convention(self, spec: str, stats: object = None, db_ref: float | None = None) -> Vocoder:
        """Convert every input mel from convention `spec` (see hifigan.melconv) first; exact maps only."""
        from hifigan.melconv import parse_convention, to_official

        parse_convention(spec)  # unknown names and conventions without an exact map fail here
        self._mel_convert = None if spec == "official" else lambda m: to_official(m, spec, stats, db_ref)
        return self

    def _as_mel(self, mel: torch.Tensor | np.ndarray, dims: tuple[int, ...] = (2, 3)) -> torch.Tensor:
        if getattr(self, "_mel_convert", None) is not None:
            mel = self._mel_convert(torch.as_tensor(mel).double().cpu().numpy())
        mel = torch.as_tensor(mel, dtype=self.io_dtype)
        if mel.dim() not in dims or mel.shape[-2] != self.config.num_mels or mel.shape[-1] < 1:
            shapes = " or ".join(
                f"[{self.config.num_mels}, T]" if d == 2 else f"[B, {self.config.num_mels}, T]" for d in dims
            )
            raise ValueError(f"expected a mel of shape {shapes} with T >= 1, got {tuple(mel.shape)}")
        return mel

    def __call__(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """[num_mels, T] -> [T * hop] or [B, num_mels, T] -> [B, T * hop], float32 (float64 for a float64
        generator) on the CPU."""
        mel = self._as_mel(mel)
        single = mel.dim() == 2
        audio = self._run(mel.unsqueeze(0) if single else mel)
        return audio[0] if single else audio

    def batch(self, mels: Sequence[torch.Tensor | np.ndarray]) -> list[torch.Tensor]:
        """Vocode mels of different lengths together; each output equals vocoding that mel alone.

        Zero-padding a short mel would change its last frames (the generator's intermediate layers pad
        with zeros, a zero mel does not give zero activations). So the padded batch supplies only the
        frames more than `receptive_field.right` before each end, which padding cannot reach; the last
        frames come from a second batch of equal-length tail windows cut from each mel alone.
        """
        items = [self._as_mel(m, dims=(2,)) for m in mels]
        if not items:
            return []
        field, hop = self.receptive_field, self.hop_size
        lengths = [m.shape[1] for m in items]
        longest = max(lengths)
        padded = torch.stack([torch.nn.functional.pad(m, (0, longest - m.shape[1])) for m in items])
        bodies = self._run(padded)
        # Tail windows: frames [cut, T) need mel [start, T); group windows of equal length into one run.
        tails: dict[int, list[int]] = {}
        starts = []
        for i, length in enumerate(lengths):
            cut = max(0, length - field.right)
            start = max(0, cut - field.left)
            starts.append((cut, start))
            tails.setdefault(length - start, []).append(i)
        out: list[torch.Tensor | None] = [None] * len(items)
        for window, members in tails.items():
            audio = self._run(torch.stack([items[i][:, starts[i][1] :] for i in members]))
            assert audio.shape[1] == window * hop
            for row, i in zip(audio, members):
                cut, start = starts[i]
                out[i] = torch.cat([bodies[i, : cut * hop], row[(cut - start) * hop :]])
        return out  # type: ignore[return-value]

    def stream(self, mel_chunks: Iterable[torch.Tensor | np.ndarray], min_frames: int = 1) -> Iterator[torch.Tensor]:
        """Audio chunks for [num_mels, t] mel chunks; concatenated, they equal `self(whole mel)`.

        Each frame's audio leaves once `receptive_field.right` later frames have arrived (the look-ahead);
        memory stays bounded by the chunk size plus the receptive field.
        """
        return stream(self._run, mel_chunks, self.receptive_field, self.hop_size, self.config.num_mels, min_frames,
                      self.io_dtype)

    def chunked(self, mel: torch.Tensor | np.ndarray, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> torch.Tensor:
        """[num_mels, T] -> [T * hop] in chunks of `chunk_frames` (bounded memory, same output as one-shot)."""
        mel = self._as_mel(mel, dims=(2,))
        return torch.cat(list(self.stream(split_frames(mel, chunk_frames), min_frames=chunk_frames)))
