"""The training state: the models, their optimizers and schedulers, and the position (step, epoch, batch in the
epoch); its checkpoint payload with the RNG states, and restoring it exactly (starting it from other weights,
`--init-from`: init_weights.py).

The layout is the official one (AdamW over the generator; AdamW over the discriminators in registry order, MSD
then MPD), so optimizer states move 1:1 to and from the official do_* files. Each discriminator's weights are
stored under its name (mpd, msd: the keys our checkpoints always had).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hifigan.checkpoints.contents import CheckpointContents
from hifigan.checkpoints.format import generator_payload, load_state_strict
from hifigan.checkpoints.run_files import OPTIMIZER_KEYS, POSITION_KEYS
from hifigan.config import HifiganConfig
from hifigan.errors import CheckpointError
from hifigan.models.generators import build_generator
from hifigan.training.registry import build_discriminators


@dataclass
class TrainingState:
    """Everything a step changes. `runs` holds the callables the step uses for the forward passes that must
    synchronise gradients (DDP wrappers under torchrun; absent: the modules themselves). `disc_start_step`: the step
    from which the discriminators train (config.disc_start_step unless the run decides otherwise; the checkpoints'
    config records it)."""

    config: HifiganConfig
    generator: nn.Module
    discriminators: dict[str, nn.Module]
    optim_g: torch.optim.Optimizer
    optim_d: torch.optim.Optimizer
    sched_g: torch.optim.lr_scheduler.LRScheduler
    sched_d: torch.optim.lr_scheduler.LRScheduler
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    runs: dict[str, nn.Module] = field(default_factory=dict)
    disc_start_step: int | None = None

    def __post_init__(self) -> None:
        if self.disc_start_step is None:
            self.disc_start_step = self.config.disc_start_step

    def run(self, name: str) -> nn.Module:
        """The module to call for `name` ("generator" or a discriminator) where gradients must be all-reduced."""
        if name in self.runs:
            return self.runs[name]
        return self.generator if name == "generator" else self.discriminators[name]

    def optimizers(self) -> dict[str, Any]:
        """The optimizers and schedulers under their checkpoint keys."""
        return dict(zip(OPTIMIZER_KEYS, (self.optim_g, self.optim_d, self.sched_g, self.sched_d)))

    def payload(self, **extra: Any) -> dict[str, Any]:
        """Our checkpoint dict: weights (each discriminator under its name), optimizers, schedulers, position,
        the RNG states and the config; `extra` adds to it (batch size, world size, data options)."""
        return generator_payload(
            self.generator.state_dict(), self.trained_config(),
            **{name: module.state_dict() for name, module in self.discriminators.items()},
            **{name: target.state_dict() for name, target in self.optimizers().items()},
            step=self.step, epoch=self.epoch, batch_in_epoch=self.batch_in_epoch, rng=rng_state(), **extra,
        )

    def trained_config(self) -> HifiganConfig:
        """The config of what was trained: the run's, with the step the discriminators started at."""
        if self.disc_start_step == self.config.disc_start_step:
            return self.config
        return dataclasses.replace(self.config, disc_start_step=self.disc_start_step)

    def restore(self, obj: dict[str, Any], source: Path) -> None:
        """Weights, optimizers, schedulers, position and RNG from one of our training checkpoints."""
        contents = CheckpointContents(obj, source)  # the weights in our keys, however the file spells its norms
        load_state_strict(self.generator, contents.generator_state(), source, "generator", spelled=contents.spelling())
        contents.load_discriminators(self.discriminators)
        for name, target in self.optimizers().items():
            load_optimizer_state(target, obj[name], source, name)
        self.step, self.epoch, self.batch_in_epoch = (int(obj[k]) for k in POSITION_KEYS)
        if "rng" in obj:
            set_rng_state(obj["rng"])

    def restart_schedules(self) -> None:
        """Learning rates back to the config's, decay counting from zero (loaded moments are kept)."""
        lr = self.config.learning_rate
        for optim, sched in ((self.optim_g, self.sched_g), (self.optim_d, self.sched_d)):
            for group in optim.param_groups:
                group["lr"] = group["initial_lr"] = lr
            sched.base_lrs = [lr] * len(optim.param_groups)
            sched.last_epoch = 0
            sched._last_lr = [lr] * len(optim.param_groups)

    def end_epoch(self) -> None:
        """The next epoch starts: both learning rates take their per-epoch exponential decay (the discriminators'
        during a warm-up too)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*before.*optimizer")
            self.sched_g.step()
            self.sched_d.step()
        self.epoch, self.batch_in_epoch = self.epoch + 1, 0


def new_state(config: HifiganConfig, device: torch.device) -> TrainingState:
    """Fresh models (seeded by the caller; each built by name: config.generator, config.discriminators) on
    `device`, AdamW and exponential decay as the official recipe."""
    generator = build_generator(config).to(device)
    discriminators = {name: module.to(device) for name, module in build_discriminators(config).items()}
    betas = (config.adam_b1, config.adam_b2)
    # fused=True: one kernel over all tensors (the same update as the for-loop AdamW: equal in float64, 1 ulp in
    # float32).
    optim_g = torch.optim.AdamW(generator.parameters(), config.learning_rate, betas=betas, fused=True)
    d_params = itertools.chain.from_iterable(m.parameters() for m in discriminators.values())
    optim_d = torch.optim.AdamW(d_params, config.learning_rate, betas=betas, fused=True)
    sched_g = torch.optim.lr_scheduler.ExponentialLR(optim_g, gamma=config.lr_decay)
    sched_d = torch.optim.lr_scheduler.ExponentialLR(optim_d, gamma=config.lr_decay)
    return TrainingState(config, generator, discriminators, optim_g, optim_d, sched_g, sched_d)


IMPLEMENTATION_KEYS = ("fused", "foreach")  # how an optimizer runs its update, not what the update is


def load_optimizer_state(target: Any, state: Any, source: Path | None, name: str, moments_only: bool = False
                         ) -> None:
    """An optimizer's or scheduler's load_state_dict, with a mismatch reported as a CheckpointError.

    An optimizer keeps the implementation it was built with (fused AdamW): states saved without it (official do_*
    files, older checkpoints) would otherwise switch it to the slower for-loop update. `moments_only` (--init-from):
    every group option (lr, betas, eps, weight_decay, ...) stays the optimizer's own, built from the run's config,
    and only the per-parameter state (moments, step) is taken; a resume takes the file's options, as its run had.
    """
    if isinstance(target, torch.optim.Optimizer) and isinstance(state, dict) and "param_groups" in state:
        groups = [{**saved, **{k: v for k, v in ours.items()
                               if k != "params" and (moments_only or k in IMPLEMENTATION_KEYS)}}
                  for saved, ours in zip(state["param_groups"], target.param_groups)]
        state = {**state, "param_groups": groups + state["param_groups"][len(groups):]}
    try:
        target.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise CheckpointError(source, f"{name} does not fit: {e}") from None


def check_moment_shapes(optim: torch.optim.Optimizer, source: Path | None, name: str) -> None:
    """load_state_dict matches optimizer states by position only; make sure each fits its parameter."""
    for group in optim.param_groups:
        for i, p in enumerate(group["params"]):
            state = optim.state.get(p, {})
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state and state[key].shape != p.shape:
                    raise CheckpointError(source, f"{name}: state of parameter {i} has shape "
                                                  f"{tuple(state[key].shape)}, the parameter {tuple(p.shape)}")


# ---------------------------------------------------------------- random number generators


def rng_state() -> dict[str, Any]:
    """The random number generator states of a run (torch, CUDA, numpy, python) as weights_only-loadable values:
    tensors, lists and ints."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    version, py_state, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss),
                  "gauss": float(gauss)},
        "python": {"version": int(version), "state": list(py_state), "gauss": py_gauss},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states `rng_state` returned (CUDA only when it was saved and is available)."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        # one state per GPU the saving process saw: a run saved on an 8-GPU node resumes on a 1-GPU one
        torch.cuda.set_rng_state_all(state["cuda"][:torch.cuda.device_count()])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) alike."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
