"""Numpy arrays and tensors a Vocoder entry point is given in forms torch's own conversion refuses: a nested tensor,
big-endian data, numpy's long double. Each is a mel the CLI and the server take (or a MelError naming it), never
torch's error from inside."""

import numpy as np
import pytest
import torch

from hifigan.errors import MelError
from hifigan.inference.vocoder import Vocoder

T = 12
ENTRIES = {
    "call": (lambda v, m: v(m), ""),
    "batch": (lambda v, m: v.batch([m])[0], "mel 0: "),
    "chunked": (lambda v, m: v.chunked(m, chunk_frames=5), ""),
    "stream": (lambda v, m: torch.cat(list(v.stream([m]))), "mel chunk 0: "),
}


@pytest.fixture(scope="module")
def vocoder(tiny_checkpoint):
    return Vocoder.from_checkpoint(tiny_checkpoint)


def _mel(num_mels: int) -> np.ndarray:
    return np.random.default_rng(0).normal(-5, 1, (num_mels, T)).astype(np.float32)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("dtype", [">f4", ">f8", ">f2"])
def test_a_big_endian_mel_vocodes_as_its_native_copy(vocoder, entry, dtype):
    """Was torch's ValueError 'given numpy array has byte order different from the native byte order': data read
    with np.frombuffer(data, '>f4') (HTK features, a network protocol), which `hifigan vocode` and the server take."""
    mel = _mel(vocoder.config.num_mels).astype(dtype)
    run, _ = ENTRIES[entry]
    assert torch.equal(run(vocoder, mel), run(vocoder, mel.astype(mel.dtype.newbyteorder("="))))


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_long_double_mel_vocodes_as_float64(vocoder, entry):
    """Was torch's TypeError "can't convert np.ndarray of type numpy.longdouble"; load_mel casts it as any float."""
    mel = _mel(vocoder.config.num_mels).astype(np.float64)
    run, prefix = ENTRIES[entry]
    assert torch.equal(run(vocoder, mel.astype(np.longdouble)), run(vocoder, mel))
    with pytest.raises(MelError, match=f"^{prefix}mel has dtype complex" + r"\d+, expected floating point$"):
        run(vocoder, mel.astype(np.clongdouble))

