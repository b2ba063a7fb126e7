"""A Vocoder copies (copy.deepcopy: one per worker) and pickles (multiprocessing) on every CPU backend: the copy
builds its own runner from its own generator and vocodes exactly as the original; and a Vocoder keeps the dtype and
device it was built with, refusing alike on every backend a generator cast or moved after it was built."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from hifigan.errors import HifiganError
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


@pytest.mark.parametrize("backend", ["eager", "tiled-split", "fused"])
def test_a_generator_cast_after_the_vocoder_was_built_is_refused_on_every_backend(tiny_checkpoint, backend):
    """Before: eager failed in torch's input/bias dtype check after .double(), and the engines (holding their own
    weights) went on at the precision they were built with, ignoring the cast."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend=backend)
    mel = torch.randn(vocoder.config.num_mels, 20, generator=torch.Generator().manual_seed(0))
    want = vocoder(mel)
    message = (r"^the Vocoder's generator was cast or moved after the Vocoder was built \(its weights are {} on cpu, "
               r"built as float32 on cpu\): a Vocoder keeps the dtype and device it was built with; build a new "
               r"Vocoder with precision= / device= instead$")
    vocoder.generator.double()
    with pytest.raises(HifiganError, match=message.format("float64")):
        vocoder(mel)
    vocoder.generator.float()  # back to the float32 it was built with (exactly): accepted, the same output
    assert torch.equal(vocoder(mel), want)
    vocoder.generator.half()
    with pytest.raises(HifiganError, match=message.format("float16")):
        list(vocoder.stream([mel]))
    vocoder.generator.float().to("meta")  # moved: another device
    with pytest.raises(HifiganError, match=message.replace("{} on cpu", "float32 on meta")):
        vocoder.batch([mel])


@pytest.mark.parametrize("backend", ["eager", "fused"])
def test_a_copy_keeps_the_precision_it_was_built_at(tiny_checkpoint, backend):
    """A bf16 Vocoder's copy builds its runner at bf16 too (the fused engine holds its own weights, cast by the
    Vocoder): the same output as the original, in the same dtype."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend=backend, precision="bf16")
    mel = torch.randn(vocoder.config.num_mels, 40, generator=torch.Generator().manual_seed(0))
    want = vocoder(mel)
    for how in COPIES.values():
        twin = how(vocoder)
        assert torch.equal(twin(mel), want)
