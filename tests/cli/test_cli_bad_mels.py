"""Issue #2/#6 for .npy mels: every bad mel file given to `vocode` fails up front with one line naming the file, exit
2, and no output file left behind; a batched or float64/float16 mel is read as it is."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.cli_runs import BINS, HOP, failed_cleanly, raw_file, run


def _npy(array: np.ndarray, allow_pickle: bool = False) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        np.save(d / "bad.npy", array, allow_pickle=allow_pickle)
        return d / "bad.npy"
    return make


def _npz(d: Path) -> Path:
    with open(d / "bad.npy", "wb") as f:
        np.savez(f, mel=np.zeros((BINS, 5), np.float32))
    return d / "bad.npy"


def _with(value: float, dtype=np.float32) -> np.ndarray:
    mel = np.zeros((BINS, 10), dtype)
    mel[3, 4] = value
    return mel


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


BAD_MEL: dict[str, tuple[Callable[[Path], Path], str]] = {
    "wrong bins": (_npy(np.zeros((BINS - 1, 10), np.float32)), f"{BINS - 1} bins"),
    "rank 1": (_npy(np.zeros(10, np.float32)), "shape"),
    "rank 4": (_npy(np.zeros((1, 1, BINS, 10), np.float32)), "shape"),
    "batch of 2": (_npy(np.zeros((2, BINS, 10), np.float32)), "shape"),
    "int dtype": (_npy(np.zeros((BINS, 10), np.int32)), "dtype int32"),
    "bool dtype": (_npy(np.zeros((BINS, 10), bool)), "dtype bool"),
    "complex dtype": (_npy(np.zeros((BINS, 10), np.complex64)), "dtype complex64"),
    "nan": (_npy(_with(np.nan)), "non-finite"),
    "inf": (_npy(_with(-np.inf)), "non-finite"),
    "beyond float32": (_npy(_with(1e300, np.float64)), "float32"),
    "no frames": (_npy(np.zeros((BINS, 0), np.float32)), "no frames"),
    "pickled object": (_npy(np.array({"mel": 1}), allow_pickle=True), "pickled"),
    "npz archive": (_npz, "not a single .npy array"),
    "random bytes": (raw_file(np.random.default_rng(2).bytes(500), "bad.npy"), "not a readable .npy"),
    "truncated": (raw_file(_npy_bytes(np.zeros((BINS, 50), np.float32))[:200], "bad.npy"), "not a readable"),
    "missing": (lambda d: d / "bad.npy", "no such file"),
    "zero bytes": (raw_file(b"", "bad.npy"), "empty"),
}


@pytest.mark.parametrize("case", list(BAD_MEL))
def test_vocode_rejects_bad_mel(tmp_path, capsys, case, tiny_checkpoint):
    make, problem = BAD_MEL[case]
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, make(tmp_path))
    failed_cleanly(code, err, out, "bad.npy", problem)


def test_vocode_accepts_batched_and_float64_mel(tmp_path, capsys, tiny_checkpoint):
    np.save(tmp_path / "a.npy", np.zeros((1, BINS, 7), np.float64) - 4)
    np.save(tmp_path / "b.npy", np.zeros((BINS, 9), np.float16) - 4)
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", tmp_path / "a.npy",
                       tmp_path / "b.npy")
    assert code == 0, err
    assert sf.info(tmp_path / "out" / "a.wav").frames == 7 * HOP
    assert sf.info(tmp_path / "out" / "b.wav").frames == 9 * HOP
