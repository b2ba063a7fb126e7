"""The scan cache when things go wrong: a damaged cache file."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hifigan.audio import find_audio
from hifigan.data.scan_cache import ReadSettings, gather_facts
from tests.support.tiny import tiny_config

SETTINGS = ReadSettings(tiny_config().sampling_rate)
NOBODY = 65534


def _empty(data: bytes, rows: bytes) -> bytes:
    return b""


def _truncated(data: bytes, rows: bytes) -> bytes:
    return data[:len(data) // 2]


def _flipped(data: bytes, rows: bytes) -> bytes:  # one byte of the stored rows: the zip's CRC no longer matches
    at = data.index(rows) + 3
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


@pytest.mark.parametrize("damage", [_empty, _truncated, _flipped])
def test_a_damaged_cache_is_read_again_with_a_warning_and_rebuilt(tmp_path, tiny_corpus, damage):
    cache = tmp_path / "scan-cache.npz"
    files = find_audio(tiny_corpus)
    first = gather_facts(files, SETTINGS, cache)
    cache.write_bytes(damage(cache.read_bytes(), first.rows.tobytes()))
    with pytest.warns(RuntimeWarning, match=f"the scan cache {cache} is unreadable .*every file is read again"):
        again = gather_facts(files, SETTINGS, cache)
    assert again.read == len(files) and np.array_equal(again.rows, first.rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gather_facts(files, SETTINGS, cache).read == 0  # rebuilt
