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


def with_weight_norms(module: nn.Module, state: dict[str, object]) -> dict[str, object]:
    """`state` with the plain `NAME.weight` of each weight-normed submodule of `module` (a file saved after
    remove_weight_norm) as the norm's g and v (`NAME.parametrizations.weight.original0/1`), where it holds no g or v:
    v = w and g = ||w|| over every dim but the norm's (dim 0: for a Conv1d per output channel, for a ConvTranspose1d
    per input channel, as the official code's weight_norm takes it), in the module's dtype (weight_norm_magnitude:
    g * v / ||v|| is w again, bit for bit). Other keys stay as they are, for the strict check to judge."""
    state = dict(state)
    for name, sub in module.named_modules():
        norm = _weight_norm_of(sub)
        prefix = f"{name}." if name else ""
        plain, g, v = (f"{prefix}{leaf}" for leaf in ("weight", *WEIGHT_NORM_KEYS))
        weight = state.get(plain)
        if norm is None or g in state or v in state or not isinstance(weight, torch.Tensor):
            continue
        original = sub.parametrizations.weight.original1  # type: ignore[union-attr]
        if not weight.is_floating_point() or weight.dim() != original.dim() or norm.dim < 0:
            continue
        weight = weight.to(original.dtype).contiguous()
        del state[plain]
        state[g], state[v] = weight_norm_magnitude(weight, norm.dim), weight
    return state


def weight_norm_magnitude(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """g of a weight norm over `dim` whose weight is `weight` (v = weight): the L2 norm over every other dim, shaped
    as torch's g (size 1 there). It is the norm torch._weight_norm divides by (its fused kernel's, where it uses it:
    dim first or last), so that g * v / ||v|| is `weight` exactly; another norm's last bit may differ (float32)."""
    shape = [size if i == dim else 1 for i, size in enumerate(weight.shape)]
    if dim in (0, weight.dim() - 1):
        return torch._weight_norm_interface(weight, weight.new_ones(shape), dim)[1].to(weight.dtype).reshape(shape)
    return torch.norm_except_dim(weight, 2, dim)


WEIGHT_NORM_KEYS = ("parametrizations.weight.original0", "parametrizations.weight.original1")  # torch's g and v


def _weight_norm_of(module: nn.Module) -> parametrizations._WeightNorm | None:
    """The weight norm parametrizing `module.weight`, if any."""
    if not parametrize.is_parametrized(module, "weight"):
        return None
    return next((p for p in module.parametrizations.weight if isinstance(p, parametrizations._WeightNorm)), None)


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
