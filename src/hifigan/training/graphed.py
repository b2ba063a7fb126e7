"""The training step replayed from one CUDA graph (`hifigan train --cuda-graph`).

A V1 step launches thousands of small kernels from Python (weight norm, the MRF's convolutions and activations, eight
discriminators, forward and backward, D step and G step); on a fast GPU launching them can take longer than running
them. Captured once, the whole step (both passes, gradient norms, both fused AdamW updates and the non-finite
verdict, training.step.step_on_device) replays in one launch, in memory allocated at capture. Training shapes are
fixed (batch x segment), so one graph serves every step; it is captured again when the step changes kind (the
discriminators start). The learning rates the graph reads are device tensors that follow the optimizers' own, so
the per-epoch decay reaches it. On an H200 the V1 step took 0.41-0.46x the official sequence's time with TF32
convolutions (0.28-0.33x in bf16), bit for bit the eager step's result under --deterministic (docs/gpu.md).

On by default where it can run (CUDA, one process): a capture that fails there (an out-of-memory error, an operation
that cannot be captured) warns and trains on eagerly; asked for explicitly, it is an error.
"""

from __future__ import annotations

import warnings

import torch

from hifigan.errors import HifiganError, first_line
from hifigan.messages.option_names import flag, setting, switched_off
from hifigan.training.state import TrainingState
from hifigan.training.step import Batch, StepOptions, StepResult, advance, step_on_device, train_step

WARMUP_STEPS = 2  # eager steps on the capture stream first: optimizer states, cuDNN and cuFFT plans, allocator pools


def check_graph_place(device: torch.device, distributed: bool, cli: bool) -> None:
    """Refuse where a captured step cannot run: off CUDA, or all-reducing across processes (a setting: `hifigan train
    --cuda-graph` is refused here before the corpus is scanned, training.preflight). `cli` False: the refusals name the
    fields (option_names)."""
    graph = flag("cuda_graph", cli)
    if device.type != "cuda":
        raise HifiganError(None, f"{graph} needs {setting('device', 'cuda', cli)} (got {device.type})")
    if distributed:
        raise HifiganError(None, f"{graph} runs in one process; under torchrun leave it out")


def check_graphable(options: StepOptions, state: TrainingState, cli: bool) -> None:
    """Refuse what a captured step cannot do: run where check_graph_place refuses, or step an optimizer that needs
    the host's verdict on finiteness (only fused AdamW reads it on the device)."""
    check_graph_place(options.device, options.distributed, cli)
    if not all(optim.defaults.get("fused") for optim in (state.optim_g, state.optim_d)):
        raise HifiganError(None, f"{flag('cuda_graph', cli)} needs fused AdamW optimizers")


def graphed_step(state: TrainingState, options: StepOptions, wanted: bool | None, cli: bool
                 ) -> GraphedStep | None:
    """The step runner `wanted` asks for: True (an error where a graph cannot run), False (None: eager), or None
    (a graph on CUDA in one process, falling back to eager if its capture fails; elsewhere eager). `cli`: how its
    messages name the setting (option_names)."""
    if wanted is None:
        try:
            return GraphedStep(state, options, fallback=True, cli=cli)
        except HifiganError:  # not CUDA, several processes, an optimizer that is not fused
            return None
    return GraphedStep(state, options, cli=cli) if wanted else None


class GraphedStep:
    """`train_step` on one CUDA device: eager for the first WARMUP_STEPS steps of each kind, then captured and
    replayed. The same operations in the same order; the position, the terms and the non-finite verdict as before."""

    def __init__(self, state: TrainingState, options: StepOptions, fallback: bool = False, *, cli: bool) -> None:
        check_graphable(options, state, cli)
        self.state, self.options, self.fallback, self.cli = state, options, fallback, cli
        self.failed = False  # a capture failed under `fallback`: eager from then on
        self.captures = 0  # graphs captured so far (the trainer reports each)
        self.stream = torch.cuda.Stream(options.device)
        self.reset()

    def reset(self) -> None:
        """Forget the graph: call after the optimizers' states or the modules' tensors were replaced (a checkpoint
        loaded), which a captured graph would not see."""
        self.graph: torch.cuda.CUDAGraph | None = None
        self.kind: bool | None = None  # whether the captured (or warming) step trains the discriminators
        self.warm = 0
        self.inputs: tuple[torch.Tensor, ...] = ()
        self.terms: dict[str, torch.Tensor] = {}
        self.learning_rates: list[tuple[dict, torch.Tensor]] = []

    def __call__(self, batch: Batch) -> StepResult:
        if self.failed:
            return train_step(self.state, batch, self.options)
        adversarial = self.state.step >= self.state.disc_start_step
        if adversarial != self.kind:
            self.reset()
            self.kind = adversarial
        if self.graph is None and self.warm < WARMUP_STEPS:
            self.warm += 1
            return self._eager(batch)
        self._fill(batch)
        if self.graph is None:
            try:
                self.graph = self._capture(adversarial)
                self.captures += 1
            except HifiganError as e:
                if not self.fallback:
                    raise
                off = switched_off("cuda_graph", self.cli)
                warnings.warn(f"{e.problem}; training on without it ({off} skips the attempt)", stacklevel=2)
                self.failed = True
                self.reset()
                return train_step(self.state, batch, self.options)
        for group, lr in self.learning_rates:  # the schedulers change the groups' floats; the graph reads these
            lr.fill_(group["lr"])
        self.graph.replay()
        return advance(self.state, self.terms)

    def _eager(self, batch: Batch) -> StepResult:
        current = torch.cuda.current_stream(self.options.device)
        self.stream.wait_stream(current)
        with torch.cuda.stream(self.stream):
            result = train_step(self.state, batch, self.options)
        current.wait_stream(self.stream)
        return result

    def _fill(self, batch: Batch) -> None:
        """Copy the batch into the graph's input tensors (allocated at the first call)."""
        given = batch[:3]
        if not self.inputs:
            self.inputs = tuple(torch.empty(t.shape, dtype=t.dtype, device=self.options.device) for t in given)
        for static, t in zip(self.inputs, given):
            if static.shape != t.shape:
                raise HifiganError(None, f"{flag('cuda_graph', self.cli)} needs batches of one shape: got "
                                         f"{tuple(t.shape)} after {tuple(static.shape)}")
            static.copy_(t, non_blocking=True)

    def _capture(self, adversarial: bool) -> torch.cuda.CUDAGraph:
        """Record one step on the side stream (nothing runs until the first replay)."""
        device = self.options.device
        groups = [g for optim in (self.state.optim_g, self.state.optim_d) for g in optim.param_groups]
        saved = [(g["lr"], g["capturable"]) for g in groups]
        self.learning_rates = [(g, torch.tensor(float(g["lr"]), dtype=torch.float32, device=device)) for g in groups]
        for group, lr in self.learning_rates:
            group["lr"], group["capturable"] = lr, True
        graph = torch.cuda.CUDAGraph()
        self.stream.wait_stream(torch.cuda.current_stream(device))
        try:
            # thread_local: the DataLoader's pin-memory thread may allocate pinned memory meanwhile (global mode would
            # refuse that); the step's own launches, the autograd engine's included, go to the captured stream.
            with torch.cuda.graph(graph, stream=self.stream, capture_error_mode="thread_local"):
                self.terms = step_on_device(self.state, *self.inputs, self.options, adversarial)
        except RuntimeError as e:
            raise HifiganError(None, f"{flag('cuda_graph', self.cli)}: capturing the step failed "
                                     f"({first_line(e)})") from e
        finally:  # checkpoints and schedulers keep seeing plain floats
            for group, (lr, capturable) in zip(groups, saved):
                group["lr"], group["capturable"] = lr, capturable
        return graph
