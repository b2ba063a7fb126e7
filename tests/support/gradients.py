"""Gradients of our step and of the official-style step, side by side: capture at the optimizers' steps, compare
per tensor, and the equivalence criterion outside float64 (issue 24)."""

from __future__ import annotations

import torch


def named_parameters(modules: dict, rename: bool) -> dict:
    """{prefix.name: parameter} over `modules`; `rename`: ours -> official key names (weight_g, weight_orig, ...)."""
    from hifigan.checkpoints.official import ours_to_official

    out = {}
    for prefix, module in modules.items():
        params = {f"{prefix}.{k}": p for k, p in module.named_parameters()}
        out.update(ours_to_official(params) if rename else params)
    return out


def capture_gradients(optimizer, named: dict, into: dict, tag: str, dtype=torch.float64) -> None:
    """At every step of `optimizer`, copy each gradient of `named` (in `dtype`; None: its own) into `into[tag]`."""
    def hook(*_):
        into[tag] = {k: p.grad.detach().to(dtype or p.grad.dtype, copy=True) for k, p in named.items()
                     if p.grad is not None}

    optimizer.register_step_pre_hook(hook)


def capture_step_gradients(generator, mpd, msd, optim_g, optim_d, official: bool, into: dict) -> None:
    """At the next D and G steps, float64 copies of every gradient, under official key names, into `into["d"]` and
    `into["g"]`; `official`: the modules are official-style copies (official_copies' order), else ours (renamed)."""
    capture_gradients(optim_d, named_parameters({"msd": msd, "mpd": mpd}, not official), into, "d")
    capture_gradients(optim_g, named_parameters({"generator": generator}, not official), into, "g")


def compare_gradients(optimizer, named: dict, ours: dict, tag: str, into: dict) -> None:
    """At the step of `optimizer`, each gradient of `named` against `ours[tag]` (relative_errors) into `into[tag]`;
    `ours[tag]` goes once compared, and no copy of these gradients is made (at the official sizes: ~0.3 GB each)."""
    def hook(*_):
        into[tag] = relative_errors(ours.pop(tag), {k: p.grad for k, p in named.items() if p.grad is not None})

    optimizer.register_step_pre_hook(hook)


FACTOR, SLACK = 2.0, 1e-6  # the criterion: ours <= FACTOR x official + SLACK
CRITERION = f"ours <= {FACTOR:g} x official + {SLACK:g} (relative distance to the float64 official step, per tensor)"


def criterion_bound(official: float, factor: float = FACTOR, slack: float = SLACK) -> float:
    """The equivalence criterion outside float64 (issue 24): our gradient's relative distance to the float64
    reference may be at most this, given the official step's in the same precision (`official`)."""
    return factor * official + slack


def criterion_broken(ours: dict[str, float], official: dict[str, float], factor: float = FACTOR,
                     slack: float = SLACK) -> list[str]:
    """The names of the tensors whose distance (`ours`, from relative_errors) breaks criterion_bound, sorted."""
    assert set(ours) == set(official)
    return [k for k in sorted(official) if not ours[k] <= criterion_bound(official[k], factor, slack)]


def criterion_failures(ours: dict[str, float], official: dict[str, float], factor: float = FACTOR,
                       slack: float = SLACK) -> list[str]:
    """The tensors that break the criterion (criterion_broken), each with its figures."""
    return [f"{k}: {ours[k]:.3g} > {factor:g} x {official[k]:.3g} + {slack:g}"
            for k in criterion_broken(ours, official, factor, slack)]


def relative_errors(ours: dict, ref: dict) -> dict[str, float]:
    """Per tensor, by name: |ours - ref| / |ref| (2-norms, in float64); both dicts must hold the same names."""
    assert set(ours) == set(ref)
    return {k: float((ours[k].double() - ref[k].double()).norm() / ref[k].double().norm().clamp_min(1e-30))
            for k in ref}
