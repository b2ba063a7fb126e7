"""A folder of a corpus that cannot be listed (permission denied, an I/O error) is said, as a file that cannot be
read is: os.walk skips it without a word, and a speaker's folder of the wrong mode left the corpus unnoticed (or, given
as the corpus, was said to hold no audio files)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hifigan.data.corpus import corpus_files
from hifigan.errors import HifiganError

NOBODY = 65534


@contextlib.contextmanager
def _as_nobody() -> Iterator[None]:
    """This process as a user who may not list a folder of mode 000 (root lists it regardless)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def corpus(tiny_corpus) -> Iterator[Path]:
    """spk1/a.wav and spk2/{b,c}.wav, spk2 of mode 000, in a folder anyone may enter (pytest's are root's alone)."""
    top = Path(tempfile.mkdtemp(prefix="hifigan-walk-"))
    top.chmod(0o755)
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
    with _as_nobody(), pytest.warns(UserWarning) as warned:
        files = corpus_files(corpus)
    assert files == [corpus / "spk1" / "a.wav"]
    assert [str(w.message) for w in warned] == [
        f"{corpus}: 1 folder cannot be read, so its files are not listed (e.g. {corpus}/spk2: Permission denied)"]


def test_a_corpus_that_cannot_be_listed_is_said_so_not_empty(corpus):
    """The folder itself, or every folder in it: 'cannot read', never 'contains no audio files'."""
    with _as_nobody(), pytest.raises(HifiganError) as itself:
        corpus_files(corpus / "spk2")
    assert str(itself.value) == f"{corpus}/spk2: cannot read (Permission denied)"
    (corpus / "spk1").chmod(0)
    with _as_nobody(), pytest.raises(HifiganError) as inside:
        corpus_files(corpus)
    assert str(inside.value) == f"{corpus}: cannot read 2 folders in it, e.g. {corpus}/spk1 (Permission denied)"
