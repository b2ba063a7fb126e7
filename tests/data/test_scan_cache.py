"""The up-front scan at corpus scale: files read in parallel processes give the rows one process gives, a compact
numpy row per file; the cache keyed by path, size, mtime and ctime makes a second scan, or a resumed job, read only the
files that changed; bad files are skipped and counted as before."""

from __future__ import annotations

import os
import shutil

import numpy as np
import soundfile as sf

from hifigan.audio import find_audio
from hifigan.data.clip_scan import Clip
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ROW, ReadSettings
from tests.support.files import corpus_with_bad_files
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()
SETTINGS = ReadSettings(CFG.sampling_rate)


def test_parallel_rows_equal_serial_rows_and_the_scan_counts_as_before(tmp_path, tiny_corpus):
    files = find_audio(corpus_with_bad_files(tmp_path / "c", tiny_corpus))
    serial = gather_facts(files, SETTINGS, workers=1)
    parallel = gather_facts(files, SETTINGS, workers=2)
    assert serial.read == parallel.read == len(files) == 12
    assert np.array_equal(serial.rows, parallel.rows) and serial.problems == parallel.problems
    assert sorted(files[i].name for i in serial.problems) == ["empty.wav", "garbage.wav"]
    report = quiet_scan(files, facts=parallel)
    assert len(report.clips) == 9 and len(report.skipped) == 2
    assert [p.name for p in report.silent] == ["silent.wav"] and [p.name for p in report.clipping] == ["loud.wav"]
    plain = quiet_scan(files)  # no facts given: the files are read now
    assert [(c.path, c.num_samples) for c in plain.clips] == [(c.path, c.num_samples) for c in report.clips]
    assert plain.skipped == report.skipped
    # compact: one 64-byte row per file, and clips without a per-instance dict
    assert ROW.itemsize <= 64 and not hasattr(report.clips[0], "__dict__") and Clip.__slots__


def test_the_cache_reads_only_changed_files_and_trusts_no_stale_row(tmp_path, tiny_corpus):
    folder = corpus_with_bad_files(tmp_path / "c", tiny_corpus)
    cache = tmp_path / "run" / "scan-cache.npz"
    files = find_audio(folder)
    first = gather_facts(files, SETTINGS, cache)
    assert first.read == 12 and cache.is_file()
    again = gather_facts(files, SETTINGS, cache)
    assert again.read == 0 and np.array_equal(again.rows, first.rows) and again.problems == first.problems
    # silent.wav becomes loud: the same size, a new mtime; its old row must not be trusted
    silent = folder / "silent.wav"
    stat = silent.stat()
    sf.write(silent, np.full(2000, 20000, dtype=np.int16), 8000, subtype="PCM_16")
    os.utime(silent, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert silent.stat().st_size == stat.st_size
    changed = gather_facts(files, SETTINGS, cache)
    assert changed.read == 1
    assert [p.name for p in quiet_scan(files, facts=changed).silent] == []
    # and silent again with its mtime set back (cp -p, rsync -a, an archive's times): its ctime tells
    stat = silent.stat()
    sf.write(silent, np.zeros(2000, dtype=np.int16), 8000, subtype="PCM_16")
    os.utime(silent, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (silent.stat().st_size, silent.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    back = gather_facts(files, SETTINGS, cache)
    assert back.read == 1 and [p.name for p in quiet_scan(files, facts=back).silent] == ["silent.wav"]
    # one file added, one removed: only the new one is read
    (folder / "clip00.wav").unlink()
    shutil.copy(tiny_corpus / "clip01.wav", folder / "zz_new.wav")
    grown = gather_facts(find_audio(folder), SETTINGS, cache)
    assert grown.read == 1 and len(grown.rows) == 12
    fresh = gather_facts(find_audio(folder), SETTINGS)  # every file read now: the rows the cache must give
    assert np.array_equal(grown.rows, fresh.rows) and grown.problems == fresh.problems
    # another way of reading changes no row here (every file mono at the model rate): none is read again
    assert gather_facts(find_audio(folder), ReadSettings(CFG.sampling_rate, resample=True), cache).read == 0


def test_a_cache_of_another_version_is_not_trusted(tmp_path, tiny_corpus):
    """Rows whose meaning may have changed (a cache written by another version of the scan) are all read again."""
    import json

    cache = tmp_path / "scan-cache.npz"
    files = find_audio(tiny_corpus)
    gather_facts(files, SETTINGS, cache)
    with np.load(cache) as stored:
        parts = {k: stored[k] for k in stored.files}
    header = json.loads(bytes(parts["header"]).decode())
    assert header["version"] >= 1
    parts["header"] = np.frombuffer(json.dumps({**header, "version": header["version"] - 1}).encode(), np.uint8)
    with open(cache, "wb") as out:
        np.savez(out, **parts)
    assert gather_facts(files, SETTINGS, cache).read == len(files)


def test_a_corpus_moved_or_reached_through_a_symlink_is_not_read_again_but_a_copy_is(tmp_path, tiny_corpus):
    """Names relative to the corpus root: the rows of a folder renamed (its files' size, mtime and ctime kept), or
    reached through a link, are reused, as are those of a cache of absolute names under the root; a copy under the
    same names (another corpus in the same run folder) has other ctimes and is read."""
    cache = tmp_path / "run" / "scan-cache.npz"
    a = shutil.copytree(tiny_corpus, tmp_path / "a")
    first = gather_facts(find_audio(a), SETTINGS, cache, progress=False, root=a)
    b = a.rename(tmp_path / "b")
    moved = gather_facts(find_audio(b), SETTINGS, cache, progress=False, root=b)
    assert (first.read, moved.read) == (8, 0) and moved.rows.tobytes() == first.rows.tobytes()
    link = tmp_path / "link"
    link.symlink_to(b)
    assert gather_facts(find_audio(link), SETTINGS, cache, progress=False, root=link).read == 0
    gather_facts(find_audio(b), SETTINGS, cache, progress=False)  # absolute names, as before
    assert gather_facts(find_audio(b), SETTINGS, cache, progress=False, root=b).read == 0
    c = shutil.copytree(b, tmp_path / "c")  # copy2: the sizes and mtimes kept, new ctimes
    assert gather_facts(find_audio(c), SETTINGS, cache, progress=False, root=c).read == 8
