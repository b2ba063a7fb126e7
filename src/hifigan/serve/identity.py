"""Which model a server answers with, beyond its file's name, as /v1/info and the ready line say it: the training step
its checkpoint records and a hash of its generator's weights, exact and cheap, so that a fleet's operator can tell
which replicas serve the same model."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from hifigan.checkpoints.format import FORMAT_KEY, read_checkpoint
from hifigan.checkpoints.run_files import OFFICIAL_G_PATTERN


@dataclass(frozen=True)
class ModelIdentity:
    """The step the model was trained for (None where its file does not say) and the sha256 of its weights (None
    where the server was built from a Vocoder alone, whose generator may be transformed already)."""

    step: int | None = None
    weights_sha256: str | None = None


def weights_sha256(generator: nn.Module) -> str:
    """The sha256 of a generator's weights as loaded (weight norm kept): each tensor of its state dict, in name order,
    as its name, dtype, shape and bytes. The same weights hash the same from our checkpoint, an official g_* file or
    a bare state dict (all load into one module); 35 ms of CPU for V1's 14 M parameters."""
    digest = hashlib.sha256()
    state = generator.state_dict()
    for name in sorted(state):
        tensor = state[name].detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name} {str(tensor.dtype).removeprefix('torch.')} {list(state[name].shape)}\n".encode())
        digest.update(tensor.view(torch.uint8).numpy())
    return digest.hexdigest()


def recorded_step(checkpoint: str | os.PathLike | None, official_name: str | None = None) -> int | None:
    """The training step of a model's file: an official g_<steps> file's (named so by the official train.py; a
    pretrained model's `official_name`), else the `step` of one of our checkpoints (read without its tensors);
    None where the file records none (a bare state dict, an official file renamed)."""
    name = official_name if checkpoint is None else Path(checkpoint).name
    if name is not None and (match := OFFICIAL_G_PATTERN.match(name)):
        return int(match.group(1))
    if checkpoint is None:
        return None
    contents = read_checkpoint(checkpoint, (FORMAT_KEY, "step"))
    step = contents.get("step") if FORMAT_KEY in contents else None
    return step if isinstance(step, int) else None


def model_identity(generator: nn.Module, checkpoint: str | os.PathLike | None,
                   official_name: str | None = None) -> ModelIdentity:
    """The identity of `generator`, loaded from `checkpoint` (or a pretrained model's file, `official_name`)."""
    return ModelIdentity(recorded_step(checkpoint, official_name), weights_sha256(generator))
