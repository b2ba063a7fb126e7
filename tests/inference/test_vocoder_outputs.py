"""What `Vocoder` hands back is the caller's ordinary tensor, whichever entry point made it: not an inference tensor
of the inference_mode it runs in, which refuses in-place updates and autograd outside that mode."""

import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.errors import MelError
from hifigan.inference.vocoder import Vocoder


def test_every_entry_point_returns_a_tensor_the_caller_can_update_in_place_and_use_in_autograd(tiny_checkpoint):
    """`vocoder(mel)` returned inference_mode's own tensor (batch, stream and chunked build theirs outside it), so
    `audio *= gain` was 'Inplace update to inference tensor outside InferenceMode' and a loss using it could not
    be saved for backward."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend="eager")
    mel = np.random.default_rng(0).normal(-5, 1, (vocoder.config.num_mels, 12)).astype(np.float32)
    outputs = {"call": vocoder(mel), "call-batch": vocoder(mel[None])[0], "batch": vocoder.batch([mel])[0],
               "stream": torch.cat(list(vocoder.stream([mel]))), "chunked": vocoder.chunked(mel, 5)}
    for name, audio in outputs.items():
        assert not audio.is_inference(), name
        want = audio * 0.5
        audio *= 0.5
        assert torch.equal(audio, want), name
        gain = torch.nn.Parameter(torch.tensor(2.0))
        (audio * gain).sum().backward()
        assert gain.grad == audio.sum(), name
    with torch.inference_mode():  # a caller's own inference_mode: its tensors, no copy
        assert vocoder(mel).is_inference()


def test_a_square_mel_is_read_as_bins_by_frames_unless_the_convention_says_transposed(tiny_checkpoint):
    """[num_mels, num_mels] cannot show its layout: it is [num_mels, T] (as the batch path and the generator take
    it), and [T, num_mels] only under the 'transposed' convention."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)
    bins = vocoder.config.num_mels
    mel = torch.linspace(-9, -2, bins * bins).reshape(bins, bins)
    audio = vocoder(mel)
    assert audio.shape == (bins * vocoder.config.hop_size,)
    generator, _ = load_generator(tiny_checkpoint)
    with torch.no_grad():
        as_bins_by_frames = generator.eval()(mel[None]).flatten()  # the generator's own reading: [1, bins, T]
    assert torch.allclose(audio, as_bins_by_frames, atol=1e-5) and torch.equal(audio, vocoder(mel[None])[0])
    assert not torch.allclose(audio, vocoder(mel.T.contiguous()), atol=1e-3)
    assert torch.equal(vocoder.set_mel_convention("transposed")(mel), Vocoder.from_checkpoint(tiny_checkpoint)(mel.T))


def test_chunked_takes_a_batch_of_one_as_vocoder_and_stream_do(tiny_checkpoint):
    """chunked refused [1, num_mels, T] (`expected a mel of shape [16, T]`), which vocoder(mel) and stream take (an
    acoustic model's output): it is now vocoded as the [num_mels, T] mel and returned [1, T * hop], as vocoder(mel)
    returns it; a batch of two is still refused, naming both shapes chunked takes."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend="eager")
    bins, hop = vocoder.config.num_mels, vocoder.config.hop_size
    mel = np.random.default_rng(0).normal(-5, 1, (bins, 12)).astype(np.float32)
    audio = vocoder.chunked(mel[None], 5)
    assert audio.shape == vocoder(mel[None]).shape == (1, 12 * hop)
    assert torch.equal(audio[0], vocoder.chunked(mel, 5))
    assert torch.allclose(audio, vocoder(mel[None]), atol=1e-5)
    with pytest.raises(MelError, match=rf"^expected a mel of shape \[{bins}, T\] or \[1, {bins}, T\] with T >= 1, "
                                       rf"got \(2, {bins}, 12\)$"):
        vocoder.chunked(np.stack([mel, mel]), 5)
