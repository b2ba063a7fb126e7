"""Weight and spectral normalisation with torch's current parametrizations, and their removal."""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrizations, parametrize


def weight_norm(module: nn.Module) -> nn.Module:
    """w = g * v / ||v|| (Salimans & Kingma), over dim 0 as the official code uses."""
    return parametrizations.weight_norm(module, name="weight", dim=0)


def spectral_norm(module: nn.Module) -> nn.Module:
    """w = W / sigma(W), one power iteration per training forward (Miyato et al.)."""
    return parametrizations.spectral_norm(module, name="weight", n_power_iterations=1)


def remove_parametrizations(model: nn.Module) -> nn.Module:
    """Fold every weight parametrization into a plain weight (for inference and export)."""
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return model
