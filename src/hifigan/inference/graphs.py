"""The `cuda-graph` and `cuda-compiled` backends: the fused generator (`cuda-compiled`: under torch.compile)
captured as one CUDA graph per input shape, then replayed.

On a GPU a generator is a long chain of small kernels (V1: 78 convolutions and their activations), each launched from
Python; a 10 s mel keeps the card busy for a few milliseconds, so launch overhead and per-layer allocations are a
large part of a call. A captured graph replays every kernel in one launch, in memory allocated once at capture.
A shape seen for the first time is warmed up (cuDNN picks its algorithms) and captured: two extra calls, worth it
for shapes that come back (a fixed length, a stream's windows of one width, the few shapes of `--shape-buckets`).
The graphs of the `max_shapes` most recently used shapes are kept. They share one memory pool: a replay's
activations may overwrite another graph's, which is safe because replays run one at a time on one stream and each
output is copied out before the next replay; so the pool holds the largest graph's activations, not their sum, plus
each graph's output. cuDNN picks its algorithms by its heuristics:
timing them (benchmark mode) during the warm-up measured no faster on an H200 (V1 fp16 -3% to +3%, V2 -18%).

Threads: one lock per generator makes a call (look-up, capture, copy in, replay, copy out) one step, so calls from
several threads on one stream get their own outputs: every shape's input and output are one buffer, and all graphs
share one pool, so two shapes' replays must not interleave either (per-shape locks would buy nothing: one stream
runs the replays one at a time anyway), and a capture must not overlap this generator's other CUDA work. Holding it
costs a few microseconds of launching; `hifigan serve` calls the model from one thread, where it is never contended.
Off CUDA (tests) a "replay" runs the model on the static input into the static output: the same buffers, cache and
lock, without a graph.

`cuda-compiled` compiles the fused generator first (inductor): PyTorch adds each cuDNN convolution's bias in a
kernel of its own, and inductor fuses that add with the leaky ReLU and the residual add that follow (on an H200, V1
fp16: the bias adds alone were 29% of a call's kernel time; docs/gpu.md). The first call compiles (12 s
for V1 on an H200 host); a second length recompiles once with the length symbolic (torch's automatic dynamic
shapes), and later lengths reuse that.
"""

from __future__ import annotations

import threading
import types
from collections import OrderedDict

import torch
from torch import nn

MAX_SHAPES = 32  # captured shapes kept (least recently used dropped): a bucketed server's passes fall on a few dozen
WARMUP_CALLS = 2  # eager calls on a side stream before capturing: cuDNN's algorithm choice, the allocator's pools


Entry = tuple["torch.cuda.CUDAGraph | _Rerun", torch.Tensor, torch.Tensor]  # a shape's graph, input and output


def compiled(model: nn.Module) -> nn.Module:
    """`model` under torch.compile, its whole forward one graph (inductor; on CUDA its kernels need Triton, which
    torch's CUDA wheels ship), with a compile cache of its own (_OwnCache)."""
    return _OwnCache(model)


class _OwnCache(nn.Module):
    """[B, num_mels, T] -> [B, 1, T * hop]: `model.forward` compiled from a copy of its code. torch keeps compiled
    graphs per code object and fails a fullgraph compile past 8 of them (torch._dynamo.config.recompile_limit), so
    every generator compiled from the one FusedGenerator.forward shared 8 graphs: on an H100, V1's four precisions
    (two graphs each: a first length, then the length symbolic) left none for V2. Each model now has its own 8."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model  # a submodule: .to() and .half() reach its weights, which the compiled code reads
        forward = type(model).forward
        own = types.FunctionType(forward.__code__.replace(), forward.__globals__, forward.__name__,
                                 forward.__defaults__, forward.__closure__)
        self._compiled = torch.compile(types.MethodType(own, model), fullgraph=True)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self._compiled(mel)


class GraphedGenerator(nn.Module):
    """[B, num_mels, T] -> [B, 1, T * hop] on CUDA, replaying `model`'s forward captured per (shape, dtype); safe to
    call from several threads at once (one lock)."""

    def __init__(self, model: nn.Module, max_shapes: int = MAX_SHAPES) -> None:
        super().__init__()
        self.model, self.max_shapes = model, max_shapes
        self._graphs: OrderedDict[tuple, Entry] = OrderedDict()
        self._pools: dict[torch.device, tuple] = {}  # the memory pool every capture on a device shares
        self._lock = threading.Lock()  # one call at a time: the module docstring's "Threads"

    def _apply(self, fn, recurse=True):  # nn.Module's hook under .to(), .half(), ...
        with self._lock:
            self._graphs.clear()  # moved or cast weights: captured graphs would read the old ones
        return super()._apply(fn, recurse)

    def _capture(self, mel: torch.Tensor) -> Entry:
        static_in = mel.clone()
        if mel.device.type != "cuda":
            with torch.inference_mode():
                static_out = self.model(static_in)
            return _Rerun(self.model, static_in, static_out), static_in, static_out
        side = torch.cuda.Stream(mel.device)
        side.wait_stream(torch.cuda.current_stream(mel.device))
        with torch.cuda.stream(side), torch.inference_mode():
            for _ in range(WARMUP_CALLS):
                self.model(static_in)
        torch.cuda.current_stream(mel.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        pool = self._pools.get(mel.device)
        with torch.cuda.graph(graph, pool=pool), torch.inference_mode():
            static_out = self.model(static_in)
        if pool is None:
            self._pools[mel.device] = graph.pool()
        return graph, static_in, static_out

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """The generator's output for `mel` (a fresh tensor, cloned right after the replay: the next replay of any
        graph may overwrite this graph's output)."""
        key = (tuple(mel.shape), mel.dtype, mel.device)
        with self._lock:
            entry = self._graphs.get(key)
            if entry is None:
                entry = self._graphs[key] = self._capture(mel)
                while len(self._graphs) > self.max_shapes:
                    self._graphs.popitem(last=False)
            else:
                self._graphs.move_to_end(key)
            graph, static_in, static_out = entry
            static_in.copy_(mel)
            graph.replay()
            return static_out.clone()


class _Rerun:
    """A graph's stand-in off CUDA: `replay` runs the model on the static input into the static output."""

    def __init__(self, model: nn.Module, static_in: torch.Tensor, static_out: torch.Tensor) -> None:
        self.model, self.static_in, self.static_out = model, static_in, static_out

    def replay(self) -> None:
        with torch.inference_mode():
            self.static_out.copy_(self.model(self.static_in))
