"""A Vocoder copies (copy.deepcopy: one per worker) and pickles (multiprocessing) on every CPU backend: the copy
builds its own runner from its own generator and vocodes exactly as the original."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from tests.support.threads import two_threads

CPU_BACKENDS = ["eager", "fused", "fused-split", "tiled", "tiled-split", "invariant", "jit", "onnx", "onnx-split"]
COPIES = {"deepcopy": copy.deepcopy, "pickle": lambda v: pickle.loads(pickle.dumps(v))}


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("how", COPIES)
def test_a_copy_is_independent_and_vocodes_the_same(tiny_checkpoint, backend, how):
    """Before: deepcopy of the split backends (auto's tiled-split on the CPU among them) failed with "cannot pickle
    '_thread.lock' object", pickle of every backend on weight norm's leftover hook or the engine's closures."""
    with two_threads():  # a split engine's worker pool (one thread a worker), which the copy builds its own of
        vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend=backend)
        mel = torch.randn(vocoder.config.num_mels, 400, generator=torch.Generator().manual_seed(0))
        twin = COPIES[how](vocoder)
    want = vocoder(mel)  # both run at one thread count (eager's sums follow it)
    assert twin.backend == backend and twin._runner is not vocoder._runner
    if backend.endswith("-split") or backend == "invariant":
        assert twin._runner.pool is not None and twin._runner.pool is not vocoder._runner.pool
    originals = {p.data_ptr() for p in vocoder.generator.parameters()}
    assert not any(p.data_ptr() in originals for p in twin.generator.parameters())
    assert torch.equal(twin(mel), want)
    chunks = [mel[:, :150], mel[:, 150:]]
    assert torch.equal(torch.cat(list(twin.stream(chunks))), torch.cat(list(vocoder.stream(chunks))))
    if backend == "eager":  # its runner is its generator: the original's weights changed, the copy's are not
        with torch.no_grad():
            for p in vocoder.generator.parameters():
                p.zero_()
        assert torch.equal(twin(mel), want)


def test_a_pickled_vocoder_keeps_its_mel_convention(tiny_checkpoint):
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend="eager").set_mel_convention("log10")
    mel = np.random.default_rng(0).normal(-2, 0.5, (vocoder.config.num_mels, 20)).astype(np.float32)
    assert torch.equal(pickle.loads(pickle.dumps(vocoder))(mel), vocoder(mel))

