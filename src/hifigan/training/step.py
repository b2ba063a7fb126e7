"""One GAN training step as a plain function over a TrainingState: the discriminator step, then the generator
step, as the official loop, with the same gradients and less work.

In the generator step the discriminators take no gradient (optim_d would discard it) and are called unwrapped, so
DDP has nothing to all-reduce; their real branch runs without a graph (`generator_side`), still before the
generated audio, so spectral norm's power iteration advances in the official order. The loss terms come to the
host in one copy, the step's only wait for the device: a non-finite loss or gradient norm skips that update, fused
AdamW reading the verdict on the device, and too many such steps in a row stop the run (`NonfiniteGuard`). A step
runs in fp32 or bf16 autocast, with torch's deterministic algorithms when asked.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from hifigan.errors import HifiganError
from hifigan.messages.option_names import flag, setting
from hifigan.runtime.machine import cpu_computes, emulated_message
from hifigan.training.losses import (
    GeneratorInputs,
    GeneratorObjective,
    GeneratorSide,
    discriminator_objective,
    terms_to_floats,
)
from hifigan.training.options import PRECISIONS
from hifigan.training.state import TrainingState

CUBLAS_WORKSPACE = "CUBLAS_WORKSPACE_CONFIG"  # deterministic cuBLAS needs a fixed workspace (":4096:8")

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # input mel, audio [B, T], loss mel, index


@dataclass
class StepOptions:
    """How to run a step: the loss mel front-end (audio [B, T] -> [B, num_mels, frames]), the generator objective
    (built from the config), the precision, and whether gradients are all-reduced (then the gradient norm alone
    decides finiteness: it agrees on every rank)."""

    loss_mel: nn.Module
    objective: GeneratorObjective
    device: torch.device
    precision: str = "fp32"
    distributed: bool = False

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def check_precision(precision: str, device: torch.device, cli: bool) -> None:
    """Refuse an unknown precision, and bf16 on a CPU without native bf16 arithmetic (AVX512-BF16 or AMX), where
    oneDNN would emulate it instead of speeding the step up (`cli` False: named as the field, option_names)."""
    if precision not in PRECISIONS:
        raise HifiganError(None, f"{flag('precision', cli)} must be {' or '.join(PRECISIONS)}, got {precision!r}")
    if precision != "fp32" and device.type == "cpu" and not cpu_computes(precision):
        raise HifiganError(None, f"{setting('precision', precision, cli)} on the CPU: {emulated_message(precision)}, "
                                 "many times slower than fp32; use fp32")


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """torch.use_deterministic_algorithms inside the block when `enabled` (bit-exact resume; slower), and everything
    it switched restored after it, also on an error. cuBLAS reads CUBLAS_WORKSPACE_CONFIG when the process first
    uses it: a GPU process that ran cuBLAS before should set it (":4096:8") from its start."""
    if not enabled:
        yield
        return
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.utils.deterministic.fill_uninitialized_memory, os.environ.get(CUBLAS_WORKSPACE))
    os.environ.setdefault(CUBLAS_WORKSPACE, ":4096:8")
    torch.use_deterministic_algorithms(True)
    # Filling fresh memory with NaN is a debugging aid, not needed for repeatability, and costly on the CPU.
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.utils.deterministic.fill_uninitialized_memory = before[2]
        if before[3] is None:
            os.environ.pop(CUBLAS_WORKSPACE, None)
        else:
            os.environ[CUBLAS_WORKSPACE] = before[3]


@dataclass
class StepResult:
    ok: bool
    terms: dict[str, float] = field(default_factory=dict)


def train_step(state: TrainingState, batch: Batch, options: StepOptions) -> StepResult:
    """One discriminator step (from state.disc_start_step on) then one generator step; advances the position.

    A non-finite loss or gradient skips the update (the batch still counts, so the data order is kept).
    """
    mel, audio, mel_target, _ = batch
    device = options.device
    x = mel.to(device, non_blocking=True)
    y = audio.to(device, non_blocking=True)
    y_mel = mel_target.to(device, non_blocking=True)
    terms = step_on_device(state, x, y, y_mel, options, adversarial=state.step >= state.disc_start_step)
    return advance(state, terms)


def advance(state: TrainingState, terms: dict[str, torch.Tensor]) -> StepResult:
    """Count a step done and bring its terms (with "skipped") to the host: the step's one wait for the device."""
    state.step += 1
    state.batch_in_epoch += 1
    floats = terms_to_floats(terms)
    return StepResult(not floats.pop("skipped"), floats)


def step_on_device(state: TrainingState, x: torch.Tensor, audio: torch.Tensor, y_mel: torch.Tensor,
                   options: StepOptions, adversarial: bool) -> dict[str, torch.Tensor]:
    """The D step (when `adversarial`) and the G step on tensors already on the device: x [B, num_mels, frames],
    audio [B, T], y_mel [B, num_mels, frames]. Returns the loss terms, gradient norms and "skipped" as 0-dim device
    tensors; no host sync and no Python branch on a tensor's value, so a CUDA graph can capture it
    (training.graphed)."""
    device = options.device
    y = audio.unsqueeze(1)
    terms: dict[str, torch.Tensor] = {}

    with options.autocast():
        y_g_hat = state.run("generator")(x)
    y_g_hat_mel = options.loss_mel(f32(y_g_hat.squeeze(1)))

    skipped = torch.zeros((), device=device)  # 1.0 once an update is skipped: the G step then skips too
    if adversarial:
        scores = {}
        with options.autocast():
            for name in state.discriminators:
                real, generated, _, _ = state.run(name)(y, y_g_hat.detach())
                scores[name] = (f32(real), f32(generated))
        d = discriminator_objective(scores)
        skipped, terms["grad_norm/d"] = update(state.optim_d, d.total, options.distributed, skipped)
        terms.update(d.tensors)

    inputs = GeneratorInputs(y, y_g_hat, y_mel, y_g_hat_mel)
    if adversarial:
        with frozen(*state.discriminators.values()), options.autocast():
            for name, module in state.discriminators.items():
                inputs.discriminators[name] = generator_side(module, y, y_g_hat)
    g = options.objective(inputs)
    skipped, terms["grad_norm/g"] = update(state.optim_g, g.total, options.distributed, skipped)
    terms.update(g.tensors)
    terms["skipped"] = skipped
    return terms


def generator_side(module: nn.Module, y: torch.Tensor, y_hat: torch.Tensor) -> GeneratorSide:
    """A discriminator's outputs for the generator's loss, in at least float32. Modules without `generator_side`
    run `forward`; frozen, with real audio that needs no gradient, their real branch records no graph either."""
    if hasattr(module, "generator_side"):
        scores, fmap_real, fmap_generated = module.generator_side(y, y_hat)
    else:
        _, scores, fmap_real, fmap_generated = module(y, y_hat)
    return GeneratorSide(f32(scores), f32(fmap_real), f32(fmap_generated))


def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, distributed: bool,
           skipped: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Backpropagate `loss` and step `optimizer`, unless `skipped` (a 0-dim 0.0/1.0 tensor) is set or the loss or
    the gradient norm is not finite. Returns (skipped, updated; the gradient norm).

    No host sync: fused AdamW reads the flag on the device (its `found_inf`, as under a GradScaler), leaving
    weights, moments and step count as they were when it is 1.
    """
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = grad_norm(optimizer)
    # Gradients are all-reduced, so their norm agrees on every rank; a rank's own loss does not.
    finite = torch.isfinite(norm) if distributed else torch.isfinite(norm) & torch.isfinite(loss.detach())
    skipped = torch.maximum(skipped, (~finite).float())
    if optimizer.defaults.get("fused"):
        optimizer.found_inf = skipped
        try:
            optimizer.step()
        finally:
            del optimizer.found_inf
    elif not skipped.item():  # an optimizer without the device-side flag: wait for the verdict
        optimizer.step()
    return skipped, norm


def grad_norm(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """The total 2-norm of the gradients `optimizer` holds, as a 0-dim tensor on their device."""
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads)


def f32(tree: Any) -> Any:
    """Tensors (or lists of lists of them) in at least float32, so the losses run in full precision (bf16 -> float32;
    float64 models, as in the equivalence tests, stay float64)."""
    if isinstance(tree, torch.Tensor):
        return tree.float() if tree.dtype in (torch.bfloat16, torch.float16) else tree
    return [f32(t) for t in tree]


@contextlib.contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """The modules' parameters take no gradient inside the block (their requires_grad is restored after)."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class NonfiniteGuard:
    """Counts skipped steps; `limit` in a row stop the run (its checkpoints are kept)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.run = self.total = 0

    def check(self, ok: bool, step: int, terms: dict[str, float]) -> str | None:
        """After a step: None when it was finite, else the message to report; raises at the limit."""
        if ok:
            self.run = 0
            return None
        self.run += 1
        self.total += 1
        bad = ", ".join(f"{k}={v}" for k, v in terms.items() if not math.isfinite(v)) or "gradients"
        return (f"step {step}: non-finite loss ({bad}); update skipped "
                f"({self.run} in a row, limit {self.limit})")

    def diverged(self, step: int, kept: os.PathLike | None) -> HifiganError | None:
        """The error that stops the run at `limit` non-finite steps in a row, else None; it names `kept`, the run's
        newest checkpoint (None: none was written, as with --checkpoint-interval 0 or before the first save)."""
        if self.run < self.limit:
            return None
        kept_text = f"last checkpoint kept: {os.fspath(kept)}" if kept is not None else "no checkpoint was written"
        return HifiganError(None, f"training diverged: {self.run} non-finite steps in a row at step {step} "
                                  f"({kept_text}; try a lower learning rate, or fp32)")
