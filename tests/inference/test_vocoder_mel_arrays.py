"""Numpy arrays and tensors a Vocoder entry point is given in forms torch's own conversion refuses: a nested tensor,
big-endian data, numpy's long double. Each is a mel the CLI and the server take (or a MelError naming it), never
torch's error from inside; a read-only array (memory-mapped) is taken without torch's warning and without a copy."""

import warnings

import numpy as np
import pytest
import torch

from hifigan.errors import MelError
from hifigan.inference.mel_input import mel_tensor
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



@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("how", ["mmap", "setflags"])
def test_a_read_only_mel_vocodes_without_torchs_warning(vocoder, entry, how, tmp_path):
    """np.load(path, mmap_mode='r') or arr.setflags(write=False) gave torch's UserWarning 'The given NumPy array is
    not writable, and PyTorch does not support non-writable tensors' (torch says it once a process:
    set_warn_always shows each time, so that an earlier test cannot hide it)."""
    mel = _mel(vocoder.config.num_mels)
    if how == "mmap":
        np.save(tmp_path / "m.npy", mel)
        read_only = np.load(tmp_path / "m.npy", mmap_mode="r")
    else:
        read_only = mel.copy()
        read_only.setflags(write=False)
    run, _ = ENTRIES[entry]
    always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = run(vocoder, read_only)
    finally:
        torch.set_warn_always(always)
    assert [str(w.message) for w in caught] == []
    assert torch.equal(got, run(vocoder, mel))


def test_a_read_only_mel_is_not_copied():
    mel = _mel(16)
    mel.setflags(write=False)
    tensor = mel_tensor(mel, None)
    assert tensor.data_ptr() == mel.ctypes.data and tensor.shape == mel.shape and tensor.stride() == (12, 1)
