"""The list of skipped files a training scan leaves in the run folder (skipped.tsv): every file with its reason,
named by the warnings, rewritten at each scan and removed once nothing is skipped."""

from __future__ import annotations

import os
import shutil
import warnings

import pytest

from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from tests.support.files import corpus_with_bad_files
from tests.support.tiny import tiny_config

CFG = tiny_config()


def _scan(folder, listing):
    return scan_corpus(Corpus(folder=folder, valid_count=1), CFG,
                       lambda f: gather_facts(f, ReadSettings(CFG.sampling_rate), progress=False),
                       skipped_list=listing)


def test_every_skipped_file_is_listed_with_its_reason_and_the_warnings_name_the_list(tmp_path, tiny_corpus):
    folder = corpus_with_bad_files(tmp_path / "c", tiny_corpus)
    for i in range(4):  # more than the warning shows
        (folder / f"empty{i}.wav").write_bytes(b"")
    odd = folder / os.fsdecode(b"g\xff.wav")
    shutil.copy(folder / "garbage.wav", odd)
    listing = tmp_path / "run" / "skipped.tsv"
    with pytest.warns(UserWarning) as caught:
        _scan(folder, listing)
    said = [str(w.message) for w in caught]
    assert any(m.startswith("training set: skipped 7 unreadable or empty files: ") and m.endswith(
        f" ... (every skipped file, with why: {listing})") for m in said)
    assert any(m.startswith("training set: skipped 1 silence-only file: ") and m.endswith(f"{listing})") for m in said)
    lines = listing.read_bytes().splitlines()
    assert lines[0] == b"path\treason" and len(lines) == 9
    rows = dict(line.split(b"\t") for line in lines[1:])
    assert rows[os.fsencode(folder / "empty3.wav")] == b"is empty (0 bytes), expected an audio file"
    assert rows[os.fsencode(folder / "silent.wav")].startswith(b"silence only")
    assert rows[b"%s/g\xff.wav" % os.fsencode(folder)].startswith(b"not a readable audio file")
    # the bad files gone: the next scan removes the list
    for name in ("garbage.wav", "empty.wav", "silent.wav", "loud.wav", odd.name, *(f"empty{i}.wav" for i in range(4))):
        (folder / name).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _scan(folder, listing)
    assert not listing.exists()
