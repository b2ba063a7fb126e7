"""A generator given to `Vocoder` in another dtype than its precision asks for runs, in the precision asked; one
its config does not describe is refused."""

import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("backend", ["eager", "fused", "tiled"])
def test_a_half_generator_runs_in_float32_when_fp32_is_asked(tiny_cfg, half, backend):
    """`Vocoder(generator.half(), cfg)` was built, then every call ended in torch's 'Input type (float) and bias
    type (c10::Half) should be the same': its weights are cast to float32 in place (exactly), as fp16 casts them."""
    torch.manual_seed(0)
    generator = Generator(tiny_cfg).to(half)
    same = Generator(tiny_cfg)
    same.load_state_dict(generator.float().state_dict())  # the half weights, in float32
    generator.to(half)
    mel = np.random.default_rng(0).normal(-5, 1, (tiny_cfg.num_mels, 12)).astype(np.float32)
    audio = Vocoder(generator, tiny_cfg, backend=backend)(mel)
    assert audio.dtype == torch.float32
    assert torch.equal(audio, Vocoder(same, tiny_cfg, backend=backend)(mel))


@pytest.mark.parametrize("changes", [{"num_mels": 20}, {"hop_size": 32, "upsample_rates": [8, 4]}])
def test_a_config_that_does_not_describe_the_generator_is_refused_when_built(tiny_cfg, changes):
    """Another num_mels was torch's channel error at every call; another hop_size vocoded at the generator's hop
    while batch and stream cut the audio at the config's, silently wrong. Both are one HifiganError at once."""
    from hifigan.errors import HifiganError
    from tests.support.tiny import tiny_config

    with pytest.raises(HifiganError, match=r"^the config does not describe this generator: it takes "
                                           rf"{tiny_cfg.num_mels} mel bins at hop {tiny_cfg.hop_size}, the config has"):
        Vocoder(Generator(tiny_cfg), tiny_config(**changes))


@pytest.mark.parametrize("backend", ["tiled", "tiled-split", "fused-split", "invariant"])
def test_the_tiled_and_split_engines_compute_float32_under_a_callers_autocast(tiny_cfg, backend):
    """A TTS pipeline's `torch.autocast("cpu", dtype=torch.bfloat16)` around a call of the CPU's default backend
    ended in torch's 'Input type (CPUBFloat16Type) and weight type (torch.FloatTensor) should be the same': the
    tiled engines (fp32 only, as their split workers' threads already ran) now compute float32 under it, exactly."""
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(tiny_cfg), tiny_cfg, backend=backend)
    mel = np.random.default_rng(0).normal(-5, 1, (tiny_cfg.num_mels, 12)).astype(np.float32)
    expected = vocoder(mel)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(vocoder(mel), expected)
        assert torch.equal(vocoder.batch([mel, mel[:, :5]])[0], expected)
        assert torch.equal(torch.cat(list(vocoder.stream([mel[:, :6], mel[:, 6:]]))), expected)
    # fused-split ran a short input in the caller's thread (bf16 under autocast) and a long one in its workers
    # (float32): the precision of its output hung on the input's length.
    long = np.random.default_rng(1).normal(-5, 1, (tiny_cfg.num_mels, 400)).astype(np.float32)
    expected = vocoder(long)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(vocoder(long), expected)
