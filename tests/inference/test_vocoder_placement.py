"""What a Vocoder's passes pay to check the generator's placement (hifigan.inference.ownership): the same pairs as
torch's `parameters()`, found without naming every module, and once per batch, not once per forward pass."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrizations

from hifigan.inference.ownership import placement
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from tests.support.calls import python_calls
from tests.support.tiny import tiny_config


def test_placement_is_that_of_every_parameter_torch_lists():
    """A shared module, an empty parameter slot, an empty module slot, a weight-normed (parametrized) weight, a
    buffer (not a parameter), a cast and a move of one part."""
    shared = nn.Linear(2, 2)
    tree = nn.Sequential(shared, nn.Sequential(shared, parametrizations.weight_norm(nn.Conv1d(2, 2, 3))))
    tree.register_parameter("empty", None)
    tree.add_module("nothing", None)
    tree.register_buffer("counts", torch.zeros(3, dtype=torch.int64))
    for step in (lambda: None, lambda: tree[1][1].double(), lambda: shared.to("meta")):
        step()
        assert placement(tree) == frozenset((p.dtype, p.device) for p in tree.parameters())
    assert placement(tree) == {(torch.float32, torch.device("meta")), (torch.float64, torch.device("cpu"))}


def test_a_batch_checks_the_placement_once_whatever_its_passes():
    """Before: each forward pass of a batch walked the generator (V1: 1 ms a walk, 156 parameters), so a batch of
    stream windows of several widths (a stacked pass per repeated width, one for the rest) paid it per pass."""
    cfg = tiny_config("1")
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg, backend="fused")
    field = vocoder.receptive_field
    widths = [20, 20, 27, 27, 21, 21, 30]  # three stacked pairs and one laid end to end: four passes
    mels = [torch.randn(cfg.num_mels, field.left + n + field.right) for n in widths]
    keep = [(field.left, field.left + n) for n in widths]
    calls = python_calls(lambda: vocoder.batch(mels, keep=keep))
    assert calls["hifigan.inference.fused.FusedGenerator.forward"] == 4  # the passes
    assert calls["hifigan.inference.ownership.placement"] == 1
