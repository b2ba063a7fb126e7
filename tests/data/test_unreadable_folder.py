"""A folder of a corpus that cannot be listed (permission denied, an I/O error) is said, as a file that cannot be
read is: os.walk skips it without a word, and a speaker's folder of the wrong mode left the corpus unnoticed (or, given
as the corpus, was said to hold no audio files). A folder that can be listed but not searched (mode 644, `chmod -R
644`) names files that cannot be stat'ed: each is skipped as unreadable, as a file of mode 000 is, not the run's end
(`perm/spk3/b.wav: Permission denied`, from the walk's is_file or the scan's exists)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import tqdm  # noqa: F401  (read_files imports it; imported here, while the interpreter's own files may be read)

from hifigan.data.corpus import Corpus, corpus_files
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.held_out_content import follow_renames
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import LOADED, UNREADABLE, ReadSettings
from hifigan.errors import HifiganError
from tests.support.tiny import tiny_config
from tests.support.users import as_nobody, folder_anyone_may_enter


@pytest.fixture
def corpus(tiny_corpus) -> Iterator[Path]:
    """spk1/a.wav and spk2/{b,c}.wav, spk2 of mode 000, in a folder anyone may enter (pytest's are root's alone)."""
    top = folder_anyone_may_enter("hifigan-walk-")
    for name in ("spk1/a.wav", "spk2/b.wav", "spk2/c.wav"):
        (top / "corpus" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_corpus / "clip00.wav", top / "corpus" / name)
    (top / "corpus" / "spk2").chmod(0)
    try:
        yield top / "corpus"
    finally:
        for folder in ("spk1", "spk2"):
            (top / "corpus" / folder).chmod(0o755)
        shutil.rmtree(top)


def test_a_folder_that_cannot_be_listed_is_said_and_its_files_left_out(corpus):
    with as_nobody(), pytest.warns(UserWarning) as warned:
        files = corpus_files(corpus)
    assert files == [corpus / "spk1" / "a.wav"]
    assert [str(w.message) for w in warned] == [
        f"{corpus}: 1 folder cannot be read, so its files are not listed (e.g. {corpus}/spk2: Permission denied)"]


def test_a_corpus_that_cannot_be_listed_is_said_so_not_empty(corpus):
    """The folder itself, or every folder in it: 'cannot read', never 'contains no audio files'."""
    with as_nobody(), pytest.raises(HifiganError) as itself:
        corpus_files(corpus / "spk2")
    assert str(itself.value) == f"{corpus}/spk2: cannot read (Permission denied)"
    (corpus / "spk1").chmod(0)
    with as_nobody(), pytest.raises(HifiganError) as inside:
        corpus_files(corpus)
    assert str(inside.value) == f"{corpus}: cannot read 2 folders in it, e.g. {corpus}/spk1 (Permission denied)"


def test_files_of_a_folder_that_cannot_be_searched_are_skipped_as_unreadable(corpus):
    """Listed by name, each read and said unreadable (the scan's row, never reused: keyed -1), the run refused for too
    few usable files with why; a resumed run's held-out file there is kept by name, not looked for elsewhere."""
    (corpus / "spk2").chmod(0o644)
    config = tiny_config()
    with as_nobody():
        files = corpus_files(corpus)
        facts = gather_facts(files, ReadSettings(config.sampling_rate))
        kept = follow_renames(["spk2/b.wav"], {"spk2/b.wav": "1:2:x"}, Corpus(folder=corpus))
    assert files == [corpus / "spk1" / "a.wav", corpus / "spk2" / "b.wav", corpus / "spk2" / "c.wav"]
    assert facts.rows["status"].tolist() == [LOADED, UNREADABLE, UNREADABLE]
    assert facts.problems == {1: "cannot read (Permission denied)", 2: "cannot read (Permission denied)"}
    assert facts.rows["mtime_ns"].tolist()[1:] == [-1, -1]
    assert kept == ["spk2/b.wav"]
    with as_nobody(), pytest.raises(HifiganError) as refused:
        scan_corpus(Corpus(folder=corpus / "spk2"), config,
                    lambda listed: gather_facts(listed, ReadSettings(config.sampling_rate)))
    assert str(refused.value) == ("need at least 2 usable audio files to hold out a validation clip (0 of 2 are "
                                  f"usable: 2 unreadable, e.g. {corpus}/spk2/b.wav)")
