"""The scan cache when things go wrong: a damaged cache file, a name that is not UTF-8, a file that could not be
read this time, a worker process that dies mid-scan."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from hifigan.audio import find_audio
from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import LOADED, UNREADABLE, ReadSettings, read_one
from hifigan.errors import HifiganError
from hifigan.training.rank_listing import check_listing, listing_digests
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config
from tests.support.users import as_nobody, folder_anyone_may_enter

SETTINGS = ReadSettings(tiny_config().sampling_rate)


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


def test_a_name_that_is_not_utf8_scans_like_any_other_and_round_trips_the_cache(tmp_path, tiny_corpus):
    folder = tmp_path / "c"
    shutil.copytree(tiny_corpus, folder)
    odd = folder / os.fsdecode(b"x\xff.wav")
    shutil.copy(folder / "clip00.wav", odd)
    files = find_audio(folder)
    assert odd in files
    cache = tmp_path / "scan-cache.npz"
    first = gather_facts(files, SETTINGS, cache)
    report = quiet_scan(files, facts=first)
    assert report.skipped == [] and odd in [c.path for c in report.clips]
    garbage = folder / "garbage.wav"  # another name's error reads as before: its name, not bytes
    garbage.write_bytes(b"not audio" * 100)
    # libsndfile's reason alone: soundfile's "Error opening 'PATH': " repeated the path the line starts with
    assert read_one(str(garbage), SETTINGS)[1] == "not a readable audio file (Format not recognised)"
    again = gather_facts(files, SETTINGS, cache)
    assert again.read == 0 and np.array_equal(again.rows, first.rows)
    # and a training run's corpus holds it: the held-out draw hashes its name too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scanned = scan_corpus(Corpus(folder=folder, valid_count=8), tiny_config(),
                              lambda listed: gather_facts(listed, SETTINGS, cache))
    assert odd in [c.path for c in scanned.train.clips + scanned.valid.clips]


def _read_as_nobody(path: str, settings: ReadSettings) -> tuple:
    """read_one in a worker process that dropped its rights: a real PermissionError for a file of mode 000."""
    with as_nobody():
        return read_one(path, settings)


def test_a_file_that_could_not_be_read_is_read_again_unchanged_and_keeps_its_size(tiny_corpus):
    """Read as a user who may not (a worker without the rights), then as one who may, the file untouched (no chmod,
    which would change its ctime and so the key): read again, not reused. Its row keeps its size, which under
    torchrun the other ranks check their listing against (training.job shared_facts): a file rank 0 could not read
    is skipped, as by one process, not 'of another size on rank 1'."""
    folder = str(folder_anyone_may_enter("hifigan-scan-"))
    try:
        for name in ("a.wav", "b.wav"):
            shutil.copy(tiny_corpus / "clip00.wav", os.path.join(folder, name))
        os.chmod(os.path.join(folder, "b.wav"), 0)
        files = find_audio(folder)
        cache = Path(folder, "run", "scan-cache.npz")
        first = gather_facts(files, SETTINGS, cache, workers=2, reader=_read_as_nobody)
        assert first.rows["status"].tolist() == [LOADED, UNREADABLE]
        assert first.problems == {1: "cannot read (Permission denied)"}
        assert first.rows["size"].tolist() == [os.path.getsize(f) for f in files]
        check_listing(files, Path(folder), listing_digests(files, Path(folder)), first.rows["size"], rank=1)
        again = gather_facts(files, SETTINGS, cache)  # root now reads it (another user could not: still unreadable)
        assert again.read == 1
        if os.geteuid() == 0:
            assert again.rows["status"].tolist() == [LOADED, LOADED] and again.problems == {}
    finally:
        shutil.rmtree(folder)


def _dies_on_poison(path: str, settings: ReadSettings) -> tuple:
    """read_one, but the process ends at once on a file named zz_poison.wav (as the OOM killer ends it)."""
    if path.endswith("zz_poison.wav"):
        os._exit(9)
    return read_one(path, settings)


def test_a_dead_worker_is_one_line_naming_its_file_and_what_was_read_is_kept(tmp_path, tiny_corpus):
    folder = tmp_path / "c"
    shutil.copytree(tiny_corpus, folder)
    shutil.copy(folder / "clip00.wav", folder / "zz_poison.wav")
    files = find_audio(folder)
    cache = tmp_path / "run" / "scan-cache.npz"
    with pytest.raises(HifiganError, match=r"a scan worker process died \(likely out of memory\) while reading "
                                           r".*zz_poison\.wav.*kept in .*scan-cache\.npz: a rerun goes on") as caught:
        gather_facts(files, SETTINGS, cache, workers=2, save=False, reader=_dies_on_poison)
    assert "\n" not in str(caught.value)
    again = gather_facts(files, SETTINGS, cache)
    assert 1 <= again.read <= 2  # the poison file, and at most the file the other worker was reading
    assert np.array_equal(again.rows, gather_facts(files, SETTINGS).rows)


def test_text_named_mp3_is_said_to_be_no_audio_not_a_missing_file(tmp_path):
    """libsndfile's MP3 reader, finding no MPEG frames, says 'File does not exist or is not a regular file': false of
    a file that is there, so the scan says what it says of any bytes it does not know."""
    fake = tmp_path / "notes.mp3"
    fake.write_text("not audio, just notes\n" * 50)
    assert read_one(str(fake), SETTINGS)[1] == "not a readable audio file (Format not recognised)"
