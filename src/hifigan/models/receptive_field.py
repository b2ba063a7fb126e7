"""A generator's receptive field (the mel context one frame's audio needs), which exact streaming, batching and time
splitting carry: from its layer description, from its own `receptive_field()`, or else measured once.

The measurement reads, in float64, which mel frames the derivative of one middle frame's audio is non-zero on (a
finite perturbation would lose the far frames in rounding: tests/models/test_layers.py). The probe doubles from 32
frames up to PROBE_FRAMES[-1] while the field reaches its edge; a wider field, a wrong output length, or a generator
whose audio of a frame changes when the mel shifts by one frame (not shift-equivariant at the hop, so no window of
it is exact) is a one-line HifiganError.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from hifigan.errors import HifiganError
from hifigan.models.generators import layer_description, optional_method
from hifigan.models.layers import ReceptiveField

PROBE_FRAMES = (32, 64, 128, 256, 512)
SHIFT_TOLERANCE = 1e-9  # float64: the same frame's audio from a shifted window agrees to rounding (~1e-15)
SEED = 0


def generator_field(generator: nn.Module, num_mels: int, hop: int) -> tuple[ReceptiveField, str]:
    """The receptive field and where it comes from: "layers" (the description), "declared" (the generator's own
    `receptive_field()`) or "measured" (once, here)."""
    return own_field(generator) or (measure_field(generator, num_mels, hop), "measured")


def own_field(generator: nn.Module) -> tuple[ReceptiveField, str] | None:
    """The field the generator itself gives, from its layers or its declaration, and which; None when it gives none
    (no forward pass: a generator on the meta device answers too)."""
    layers = layer_description(generator)
    if layers is not None:
        return layers.receptive_field(), "layers"
    declared = declared_field(generator)
    return None if declared is None else (declared, "declared")


def declared_field(generator: nn.Module) -> ReceptiveField | None:
    """What the generator's `receptive_field()` returns (checked), or None when it has no such method."""
    method = optional_method(generator, "receptive_field")
    if method is None:
        return None
    field = method()
    if not isinstance(field, ReceptiveField) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (field.left, field.right)):
        raise HifiganError(None, f"generator {type(generator).__name__}: receptive_field() must return a "
                                 f"ReceptiveField of two integers >= 0, got {field!r}")
    return field


def measure_field(generator: nn.Module, num_mels: int, hop: int) -> ReceptiveField:
    """The generator's receptive field, measured on a float64 copy (the generator itself is left as it is)."""
    name = type(generator).__name__
    probe = copy.deepcopy(generator).cpu().double().eval().requires_grad_(False)
    with torch.inference_mode(False), torch.enable_grad():
        for frames in PROBE_FRAMES:
            field = _probe(probe, name, num_mels, hop, frames)
            if field is not None:
                return field
    raise HifiganError(None, f"generator {name}: its receptive field reaches {PROBE_FRAMES[-1] // 2} frames or "
                             f"more, past what is measured; declare it (a receptive_field() method)")


def _probe(generator: nn.Module, name: str, num_mels: int, hop: int, frames: int) -> ReceptiveField | None:
    """The field seen from the middle frame of a `frames`-frame mel (two random mels at once), after checking the
    output length and that the same frame's audio comes out of the mel shifted by one frame; None when the field
    may reach past the probe."""
    centre = frames // 2
    seeded = torch.Generator().manual_seed(SEED + frames)
    mel = torch.randn(2, num_mels, frames + 1, dtype=torch.float64, generator=seeded) - 3
    x = mel[..., :frames].clone().requires_grad_(True)
    audio = generator(x)
    if audio.dim() != 3 or tuple(audio.shape[:2]) != (2, 1) or audio.shape[2] != frames * hop:
        raise HifiganError(None, f"generator {name} maps a mel of shape {tuple(x.shape)} to audio of shape "
                                 f"{tuple(audio.shape)}; a generator gives [batch, 1, frames x hop_size] "
                                 f"({(2, 1, frames * hop)})")
    own = audio[:, 0, centre * hop : (centre + 1) * hop]
    own.backward(torch.randn(own.shape, dtype=torch.float64, generator=seeded))
    read = torch.nonzero(x.grad.abs().amax(dim=(0, 1))).flatten()
    if len(read) == 0:
        raise HifiganError(None, f"generator {name}: its audio does not depend on the mel")
    first, last = int(read.min()), int(read.max())
    if first == 0 or last == frames - 1:
        return None
    with torch.no_grad():  # the mel one frame on: the same frame is the window's frame centre - 1
        shifted = generator(mel[..., 1:])[:, 0, (centre - 1) * hop : centre * hop]
    scale = float(own.detach().abs().max()) or 1.0
    if float((shifted - own.detach()).abs().max()) > SHIFT_TOLERANCE * scale:
        raise HifiganError(None, f"generator {name} is not shift-equivariant at the hop ({hop} samples): a frame's "
                                 "audio changes when the mel shifts by one frame, so no exact window of it exists")
    return ReceptiveField(left=centre - first, right=last - centre)
