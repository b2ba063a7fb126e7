"""A scan cache whose header matches but whose rows are of another layout (a build that stored other columns under
the same version) is read again from the files, never taken as this build's rows; a worker that dies is named alone
and what was read is kept."""

from __future__ import annotations

import io
import os
import shutil
import time

import numpy as np
import pytest

from hifigan.audio import find_audio
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings, read_one
from hifigan.errors import HifiganError
from tests.support.tiny import tiny_config

SETTINGS = ReadSettings(tiny_config().sampling_rate)


def test_rows_of_another_layout_are_read_again(tmp_path, tiny_corpus):
    folder = tmp_path / "c"
    shutil.copytree(tiny_corpus, folder)
    files = find_audio(folder)
    cache = tmp_path / "run" / "scan-cache.npz"
    first = gather_facts(files, SETTINGS, cache, progress=False)
    with np.load(cache) as stored:
        arrays = {k: stored[k] for k in stored.files}
    rows = arrays["rows"]  # the same columns, but "peak" stored as float32 and "clipped" dropped
    other = np.dtype([(n, np.float32 if n == "peak" else rows.dtype[n]) for n in rows.dtype.names if n != "clipped"])
    arrays["rows"] = np.array([tuple(r[n] for n in other.names) for r in rows], dtype=other)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    cache.write_bytes(buffer.getvalue())
    again = gather_facts(files, SETTINGS, cache, progress=False)
    assert again.read == len(files)
    assert np.array_equal(again.rows, first.rows) and again.rows.dtype == first.rows.dtype


def _dies_slowly_on_poison(path: str, settings: ReadSettings) -> tuple:
    """read_one, but on 0poison.wav (the first file) the process ends after a while, the other worker done by then."""
    if path.endswith("0poison.wav"):
        time.sleep(0.5)
        os._exit(9)
    return read_one(path, settings)


def test_a_dead_worker_names_only_the_file_in_flight_and_counts_the_files_read(tmp_path, tiny_corpus):
    """The first file kills its worker while the other worker has read its file and waits: the line names the
    first file alone (not the idle worker's last one) and keeps the one file read."""
    folder = tmp_path / "c"
    folder.mkdir()
    shutil.copy(tiny_corpus / "clip00.wav", folder / "0poison.wav")
    shutil.copy(tiny_corpus / "clip00.wav", folder / "clip00.wav")
    files = find_audio(folder)
    cache = tmp_path / "run" / "scan-cache.npz"
    with pytest.raises(HifiganError) as caught:
        gather_facts(files, SETTINGS, cache, workers=2, save=False, reader=_dies_slowly_on_poison)
    assert str(caught.value) == (f"a scan worker process died (likely out of memory) while reading {folder}/0poison.wav"
                                 f"; the 1 file read is kept in {cache}: a rerun goes on from there")
    assert gather_facts(files, SETTINGS, cache, progress=False).read == 1
