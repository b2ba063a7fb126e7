"""Weight and spectral normalisation as torch parametrizations, and their removal.

Spectral norm follows the hook-based `torch.nn.utils.spectral_norm` the official code trained with, not
`parametrizations.spectral_norm`: their power iterations run in opposite orders, so the two give different
sigma, different gradients of the first MSD scale (5% apart on one step) and different saved u/v.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations, parametrize

_LEFT_OUT: ContextVar[list[nn.Module] | None] = ContextVar("weight_norms_left_out", default=None)


def weight_norm(module: nn.Module) -> nn.Module:
    """w = g * v / ||v|| (Salimans & Kingma), over dim 0 as the official code uses; inside `norms_left_out`, the
    module as it is."""
    left_out = _LEFT_OUT.get()
    if left_out is not None:
        left_out.append(module)
        return module
    return parametrizations.weight_norm(module, name="weight", dim=0)


@contextlib.contextmanager
def norms_left_out() -> Iterator[list[nn.Module]]:
    """Models built inside have no weight norm; the list names the modules that would (a build on the meta device for
    its shapes alone: there torch's norm runs a Python decomposition whose first call imports sympy, ~1.5 s)."""
    left_out: list[nn.Module] = []
    token = _LEFT_OUT.set(left_out)
    try:
        yield left_out
    finally:
        _LEFT_OUT.reset(token)


def norm_parameter_count(modules: list[nn.Module]) -> int:
    """The parameters weight norm adds to `modules`: its g, one per slice along dim 0 (v takes the weight's place)."""
    return sum(module.weight.shape[0] for module in modules)


class SpectralNorm(nn.Module):
    """w = W / sigma(W) (Miyato et al.), sigma = u^T W v from one power iteration per training-mode evaluation.

    The iteration is the official code's: v = normalize(W^T u), then u = normalize(W v), with u and v kept as
    buffers `_u`, `_v` (state-dict keys `parametrizations.weight.0._u/_v`, the official `weight_u/weight_v`).
    In eval mode u and v stay as they are. W is viewed as a matrix [out_channels, rest].
    """

    def __init__(self, weight: torch.Tensor, eps: float = 1e-12) -> None:
        super().__init__()
        self.eps = eps
        rows = weight.shape[0]
        with torch.no_grad():  # the official initialisation: random unit vectors, no iteration yet
            self.register_buffer("_u", F.normalize(weight.new_empty(rows).normal_(0, 1), dim=0, eps=eps))
            self.register_buffer("_v", F.normalize(weight.new_empty(weight.numel() // rows).normal_(0, 1), dim=0,
                                                   eps=eps))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        matrix = weight.reshape(weight.shape[0], -1)
        if self.training:
            with torch.no_grad():
                F.normalize(torch.mv(matrix.t(), self._u), dim=0, eps=self.eps, out=self._v)
                F.normalize(torch.mv(matrix, self._v), dim=0, eps=self.eps, out=self._u)
        # Clones: autograd needs the u, v of this evaluation, and the next one overwrites the buffers in place.
        u, v = self._u.clone(), self._v.clone()
        return weight / torch.dot(u, torch.mv(matrix, v))


def spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation of `module.weight` (see SpectralNorm)."""
    parametrize.register_parametrization(module, "weight", SpectralNorm(module.weight.detach()))
    return module


def remove_parametrizations(model: nn.Module) -> nn.Module:
    """Fold every weight parametrization into a plain weight (for inference and export)."""
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return drop_weight_norm_hooks(model)


def drop_weight_norm_hooks(model: nn.Module) -> nn.Module:
    """Remove the load_state_dict pre-hook torch's weight_norm registers (it renames old weight_g/weight_v keys to
    the parametrization's) from every module whose weight is no longer parametrized: removing the norm leaves it
    behind, where it has nothing to rename into, and, a local function, it makes the module unpicklable."""
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            continue
        hooks = module._load_state_dict_pre_hooks
        for key, hook in list(hooks.items()):
            if getattr(getattr(hook, "hook", hook), "__name__", None) == "_weight_norm_compat_hook":
                del hooks[key]
    return model
