"""What a `Vocoder` owns of its generator: the dtype and device it set the weights to. The engines hold their own
copies of the weights, so a later `.double()`, `.half()` or `.to()` on `vocoder.generator` would change eager's
computation (or break it: torch's input/bias dtype error) and leave the others' as it was; each pass checks instead,
so that every backend refuses the change alike, in one line."""

from __future__ import annotations

import torch
from torch import nn

from hifigan.errors import HifiganError

Placement = frozenset[tuple[torch.dtype, torch.device]]


def placement(generator: nn.Module) -> Placement:
    """The (dtype, device) pairs of the generator's parameters: those of `generator.parameters()`, found by walking
    the modules' own tables, 4x faster than torch's walk (V1: 0.25 ms against 1 ms), which names every module."""
    pairs, seen, todo = set(), set(), [generator]
    while todo:
        module = todo.pop()
        if module is None or id(module) in seen:  # None: a slot registered empty; a module shared: once, as torch
            continue
        seen.add(id(module))
        for p in module._parameters.values():
            if p is not None:
                pairs.add((p.dtype, p.device))
        todo.extend(module._modules.values())
    return frozenset(pairs)


def check_placement(generator: nn.Module, built: Placement) -> None:
    """A HifiganError when the generator's weights are no longer of the dtype and on the device they were `built`
    with: the Vocoder is to be rebuilt with precision= / device= instead."""
    now = placement(generator)
    if now != built:
        raise HifiganError(None, f"the Vocoder's generator was cast or moved after the Vocoder was built (its weights "
                                 f"are {_said(now)}, built as {_said(built)}): a Vocoder keeps the dtype and device "
                                 "it was built with; build a new Vocoder with precision= / device= instead")


def _said(where: Placement) -> str:
    return ", ".join(sorted(f"{str(dtype).removeprefix('torch.')} on {device}" for dtype, device in where))
