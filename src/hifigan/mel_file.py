"""Mel .npy files and arrays: reading one (load_mel), the one check of a mel's dtype and values that every reader
and Vocoder entry point applies (checked_mel_values), and writing one atomically (save_npy)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from hifigan.arrays.mel_shape import mel_shapes, unbatched  # the rule Vocoder.stream and the server follow
from hifigan.arrays.tensors import is_tensor
from hifigan.audio import AUDIO_SUFFIXES, audio_info
from hifigan.errors import HifiganError, MelBinsError, MelError, first_line
from hifigan.files.atomic import atomic_path
from hifigan.files.paths import require_file
from hifigan.messages.plural import count

if TYPE_CHECKING:
    import torch

MelArray = TypeVar("MelArray", np.ndarray, "torch.Tensor")
# How the audio files a mel is confused with begin: WAV (RIFF, RF64), FLAC, Ogg, AIFF, AU.
AUDIO_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"FORM", b".snd")


def _mel_name(audio: Path) -> str:
    """The .npy name to suggest for the mel of `audio`: <stem>.npy, or <stem>.mel.npy where that is the audio's own
    name (a WAV file named .npy), which `hifigan mel` would refuse as overwriting its input."""
    name = audio.with_suffix(".npy").name
    return f"{audio.stem}.mel.npy" if name == audio.name else name


def _audio_not_mel(path: Path) -> MelError:
    """The error for an audio file (by its first bytes or its name) given where a mel goes: the command that makes
    its mel when it is readable audio, else why it is not (as `hifigan mel` says: a text file named .wav)."""
    try:
        audio_info(path)
    except HifiganError as e:
        return MelError(path, e.problem)
    return MelError(path, f"an audio file, not a .npy mel (make its mel with: hifigan mel {path} -o "
                          f"{_mel_name(path)})")


def load_mel(path: str | os.PathLike, num_mels: int, transposed: bool = False) -> np.ndarray:
    """A .npy log-mel, [num_mels, T] or [1, num_mels, T] ([T, num_mels] when `transposed`), as float32
    [num_mels, T]; anything else is an error."""
    path = require_file(path, "a .npy mel file", MelError)
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e):  # numpy would need to unpickle: an object array, a pickle, or random bytes
            with open(path, "rb") as f:
                head = f.read(6)
            if head == b"\x93NUMPY":
                raise MelError(path, "refused: an object array (pickled Python objects), expected numbers") from None
            if head[:1] == b"\x80":
                raise MelError(path, "refused: a pickle file (pickled Python objects), expected a .npy array") from None
            if head[:4] in AUDIO_MAGIC or path.suffix.lower() in AUDIO_SUFFIXES:
                raise _audio_not_mel(path) from None
            raise MelError(path, "not a readable .npy array (no .npy header)") from None
        raise MelError(path, f"not a readable .npy array ({first_line(e)})") from None
    except MemoryError:
        raise MelError(path, "not a readable .npy array (its header claims more memory than is available)") from None
    except Exception as e:  # any other parser failure on these untrusted bytes (EOFError, OSError, ...)
        raise MelError(path, f"not a readable .npy array ({first_line(e)})") from None
    if not isinstance(loaded, np.ndarray):
        if hasattr(loaded, "close"):
            loaded.close()
        raise MelError(path, "not a single .npy array (an .npz archive?)")
    mel = unbatched(loaded)
    if mel.ndim != 2:
        shapes = mel_shapes(num_mels, (2, 3), batch="1", frames="frames")
        raise MelError(path, f"mel has shape {mel.shape}, expected {shapes}")
    if transposed:
        mel = mel.T
    mel = checked_mel_values(mel, path, np.float32)
    if mel.shape[0] != num_mels:
        raise MelBinsError(path, f"mel has {count(mel.shape[0], 'bin')}, the model expects {num_mels}")
    if mel.shape[1] == 0:
        raise MelError(path, "mel has no frames")
    return mel


def checked_mel_values(mel: MelArray, source: str | os.PathLike | None = None, dtype: Any = None) -> MelArray:
    """The one check of a mel's dtype and values, for `load_mel` and every `Vocoder` entry point: floating point
    (float16/32/64, bfloat16; not int, bool or complex) and finite, then cast to `dtype` (a numpy dtype for an
    array, a torch dtype for a tensor; None: as it is), where no value may overflow. Anything else is a one-line
    MelError naming `source`. Costs one pass over the values (two with a cast), small beside vocoding them."""
    tensor = is_tensor(mel)
    if tensor:
        check_holds_values(mel, source)
    if not (mel.is_floating_point() if tensor else np.issubdtype(mel.dtype, np.floating)):
        raise MelError(source, f"mel has dtype {_dtype_name(mel.dtype)}, expected floating point")
    if not _all_finite(mel):
        raise MelError(source, "mel contains non-finite values (NaN or inf)")
    if dtype is None:
        return mel
    with np.errstate(over="ignore"):
        out = mel.to(dtype) if tensor else mel.astype(dtype, copy=False)
    if out is not mel and not _all_finite(out):  # the same object: no cast, checked above
        raise MelError(source, f"mel has values beyond the {_dtype_name(out.dtype)} range")
    return out


def check_holds_values(mel: torch.Tensor, source: str | os.PathLike | None) -> None:
    """A dense tensor with values: a meta tensor has none to check or vocode, a sparse one (COO, CSR, ...) none of
    the dense ops a check or a convolution runs, a nested one not even a shape: a one-line MelError saying which,
    not torch's error from inside."""
    import torch  # imported already: `mel` is a tensor

    if mel.is_meta:
        raise MelError(source, "mel is a meta tensor (a shape without values): give one that holds the mel's values")
    if mel.layout != torch.strided or mel.is_nested:
        layout = "nested" if mel.is_nested else str(mel.layout).removeprefix("torch.")
        raise MelError(source, f"mel is a {layout} tensor, expected a dense one (mel.to_dense())")


def _all_finite(x: np.ndarray | torch.Tensor) -> bool:
    return bool(x.isfinite().all()) if is_tensor(x) else bool(np.isfinite(x).all())


def _dtype_name(dtype: np.dtype | torch.dtype) -> str:
    """float32, int16, bool, complex64, ... for a numpy or a torch dtype."""
    return str(dtype).removeprefix("torch.")


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """np.save, atomically (no pickled objects)."""
    buffer = io.BytesIO()  # numpy's direct file write loses the errno of a failed write; Python's keeps it
    np.save(buffer, array, allow_pickle=False)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())
