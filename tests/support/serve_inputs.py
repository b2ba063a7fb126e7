"""What tests/serve/test_errors.py and test_stream_errors.py share: a server with small limits, a good mel, the bad
bodies (each with the status and words of its error), and the checks that the server goes on serving."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import Client
from hifigan.serve.limits import ServeOptions
from tests.support.serve import Running, metric, running_server
from tests.support.tiny import tiny_config

LIMITS = ServeOptions(max_batch=4, max_batch_delay_ms=2, max_frames=200, max_streams=2, max_message_bytes=20000,
                      idle_timeout_s=0.5)


GOOD = (np.random.default_rng(0).standard_normal((16, 30)) - 4).astype(np.float32)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=array.dtype == object)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], version: str = "1_0") -> bytes:
    """The header of a float32 .npy file of `shape` (format `version`, 1_0 or 2_0), without its data."""
    buffer = io.BytesIO()
    write = getattr(np.lib.format, f"write_array_header_{version}")
    write(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def with_value(value: float, dtype: type = np.float32) -> np.ndarray:
    mel = GOOD.astype(dtype)
    mel[3, 7] = value
    return mel


SHAPES = "[16, T] or [1, 16, T]"  # what a body or stream message may be, as every error says it (codec.mel_shapes)


BAD_BODIES = {  # name: (body, status, words the error holds)
    "empty": (b"", 400, f"is empty (expected the bytes of numpy.save of a float32 {SHAPES} mel"),
    "not npy": (b"RIFF....WAVEfmt ", 400,
                f"is not a .npy file (expected the bytes of numpy.save of a float32 {SHAPES} mel)"),
    # cut short: named from its header, not by np.load's own read buffer ("expected 262144 bytes got 22")
    "truncated npy": (npy(GOOD)[:150], 400, "is a .npy file cut short: its header says float32 [16, 30], 1920 bytes "
                                            "of data, and 22 bytes came"),
    # a header that claims 298 GiB: np.load said "Unable to allocate 298. GiB for an array ..."
    "huge header": (npy_header((16, 5 * 10**9)) + b"\0" * 64, 400, "its header says float32 [16, 5000000000], "
                                                                   "320000000000 bytes of data, and 64 bytes came"),
    # cut within the header, said from the header's length (np.load: "EOF: reading array header, expected 118 bytes
    # got 40"), or without it where the length itself was cut
    "cut in its header": (npy(GOOD)[:50], 400, "is a .npy file cut short in its header: 50 bytes came of its 128"),
    "cut in its length": (npy(GOOD)[:9], 400, "is a .npy file cut short in its header: 9 bytes came"),
    "cut in a 2.0 header": (npy_header((16, 30), "2_0")[:20], 400,  # its length in 4 bytes, not 2
                            "is a .npy file cut short in its header: 20 bytes came of its 128"),
    # a format version numpy has not defined: was read as 2.0, "expected 662372470 bytes got 2036" of header
    "version 9.0": (npy(GOOD)[:6] + b"\x09" + npy(GOOD)[7:], 400,
                    "is not a readable .npy file (we only support format version (1,0), (2,0), and (3,0), not (9, 0))"),
    "pickled object": (npy(np.array([{}], dtype=object)), 400, "is not a readable .npy file"),
    "two arrays": (npy(GOOD) + npy(GOOD), 400,  # np.load reads the first and would drop the second's frames
                   f"has {len(npy(GOOD))} bytes after its .npy array (one float32 {SHAPES} mel per body or message)"),
    # float16 and float64 are cast to float32 as `hifigan vocode` reads them (test_errors.py); other dtypes are not
    "int16": (npy(GOOD.astype(np.int16)), 400, "has dtype int16, expected floating point (float32; float16 and "
                                               "float64 are converted to it, as hifigan vocode converts them)"),
    "complex": (npy(GOOD.astype(np.complex64)), 400, "has dtype complex64, expected floating point"),
    "float64 beyond float32": (npy(with_value(1e39, np.float64)), 400,
                               "has values beyond the float32 range (its dtype is float64)"),
    "1-D": (npy(GOOD[0]), 400, f"has shape [30], expected {SHAPES} with T >= 1"),
    "batch of 2": (npy(np.stack([GOOD, GOOD])), 400, f"has shape [2, 16, 30], expected {SHAPES} with T >= 1"),
    "batch of 1, no frames": (npy(GOOD[None, :, :0]), 400,
                              f"has shape [1, 16, 0], expected {SHAPES} with T >= 1"),
    "no frames": (npy(GOOD[:, :0]), 400, f"has shape [16, 0], expected {SHAPES} with T >= 1"),
    "15 mels": (npy(GOOD[:15]), 400,
                f"has 15 mel bins, the model expects 16 (shape [15, 30], expected {SHAPES})"),
    # [frames, num_mels], as many TTS models give it: said so, as `hifigan vocode` says it
    "transposed": (npy(np.ascontiguousarray(GOOD.T)), 400, f"has 30 mel bins, the model expects 16 (shape [30, 16], "
                                                           f"expected {SHAPES}; a [frames, 16] mel? send it as "
                                                           "[16, frames])"),
    "batch of 1, transposed": (npy(np.ascontiguousarray(GOOD.T)[None]), 400, "(shape [1, 30, 16], expected "
                                                                             f"{SHAPES}; a [frames, 16] mel? send it "
                                                                             "as [16, frames])"),
    "NaN": (npy(with_value(np.nan)), 400, "holds 1 NaN or infinite value"),
    "inf": (npy(with_value(-np.inf)), 400, "holds 1 NaN or infinite value"),
    "too long": (npy(np.zeros((16, 201), np.float32)), 413, "has 201 frames, more than the limit of 200"),
    "too big": (npy(np.zeros((16, 400), np.float32)), 413, "over the limit of 20000"),
}


def still_serving(url: str, vocoder: Vocoder) -> None:
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert np.array_equal(Client(url).vocode(GOOD, "f32"), vocoder(GOOD).numpy())


def count(url: str, name: str) -> float:
    try:
        return metric(httpx.get(f"{url}/metrics").text, name)
    except KeyError:
        return 0.0


@contextmanager
def limited_server() -> Iterator[tuple[Running, Vocoder]]:
    """A tiny model served with LIMITS, and the model."""
    cfg = tiny_config()
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg)
    with running_server(vocoder, LIMITS) as running:
        yield running, vocoder
