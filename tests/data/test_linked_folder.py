"""Files reached through a linked folder (the folder a symlink, the files in it plain) are the files of the folder it
links to: real_paths resolves the folder, so repeats finds them and drop_repeats keeps the first path of each; the
warning counts every path dropped (two more paths to one file are two)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from hifigan.data.real_files import drop_repeats, real_paths, repeats


def test_a_linked_folder_resolves_to_its_target_and_its_files_repeat_the_targets(tmp_path):
    (tmp_path / "real").mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        (tmp_path / "real" / name).write_bytes(b"x")
    (tmp_path / "real" / "aa.wav").symlink_to(tmp_path / "real" / "a.wav")  # a third path to a.wav
    (tmp_path / "linked").symlink_to(tmp_path / "real", target_is_directory=True)
    files = [tmp_path / "linked" / "a.wav", tmp_path / "linked" / "c.wav", tmp_path / "real" / "a.wav",
             tmp_path / "real" / "aa.wav", tmp_path / "real" / "b.wav", tmp_path / "real" / "c.wav"]
    assert real_paths(files) == [os.path.realpath(f) for f in files]
    assert repeats(files) == [(2, 0), (3, 0), (5, 1)]
    with pytest.warns(UserWarning, match=rf"3 audio files are other paths .* \(e\.g\. {tmp_path}/real/a\.wav is "
                                         rf"{tmp_path}/linked/a\.wav\)$"):
        kept = drop_repeats(files, tmp_path)
    assert kept == [*files[:2], tmp_path / "real" / "b.wav"]


def test_a_folder_reached_again_through_a_link_is_said_as_a_file_reached_again_is(tmp_path):
    """A folder whose real folder the walk entered already (a second link to a speaker, a link back up) is not
    entered again: its files are listed once, by the first path in sorted order, and one warning says how many
    paths that left out, as drop_repeats says for files, so the count the run gives is not a silent drop."""
    from hifigan.data.corpus import corpus_files

    corpus = tmp_path / "corpus"
    (corpus / "spk1").mkdir(parents=True)
    (corpus / "spk2").mkdir()
    for name in ("a.wav", "b.wav"):
        (corpus / "spk1" / name).write_bytes(b"x")
    (corpus / "spk2" / "c.wav").write_bytes(b"x")
    (corpus / "alias").symlink_to(corpus / "spk1", target_is_directory=True)  # sorts first: spk1's files are its
    (corpus / "spk2" / "again").symlink_to(corpus / "spk1", target_is_directory=True)
    (corpus / "spk2" / "up").symlink_to(corpus / "spk2", target_is_directory=True)  # a loop: spk2 itself
    with pytest.warns(UserWarning) as said:
        files = corpus_files(corpus)
    assert files == [corpus / "alias" / "a.wav", corpus / "alias" / "b.wav", corpus / "spk2" / "c.wav"]
    assert [str(w.message) for w in said] == [
        f"{corpus}: 3 folders are other paths to folders listed already (symlinks), not entered again, so each of "
        f"their 5 audio files is listed once, by its first path (e.g. {corpus}/spk1 is {corpus}/alias)"]


def test_a_folder_linked_twice_that_holds_no_audio_is_not_said(tmp_path, recwarn):
    """A second link to a folder of notes (no audio) leaves no file out: nothing to say."""
    from hifigan.data.corpus import corpus_files

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    (tmp_path / "more").symlink_to(tmp_path / "notes", target_is_directory=True)
    (tmp_path / "c.wav").write_bytes(b"x")
    assert corpus_files(tmp_path) == [tmp_path / "c.wav"]
    assert not recwarn.list


def test_audio_named_links_to_nothing_are_said_not_dropped_silently(tmp_path):
    """A corpus assembled from links whose targets moved (an unmounted disk) or that loop: the links are not files,
    so they are not listed, and one warning says how many and shows one; a corpus without any says nothing."""
    from hifigan.data.corpus import corpus_files

    corpus = tmp_path / "corpus"
    (corpus / "spk").mkdir(parents=True)
    (corpus / "spk" / "a.wav").write_bytes(b"x")
    (corpus / "spk" / "gone.wav").symlink_to(tmp_path / "unmounted" / "gone.wav")
    (corpus / "spk" / "loop.wav").symlink_to(corpus / "spk" / "loop.wav")
    (corpus / "notes.txt").symlink_to(tmp_path / "nothing.txt")  # not an audio name: not counted
    with pytest.warns(UserWarning, match=rf"^{corpus}: 2 symlinks with audio names lead to no file \(a target "
                                         rf"gone, or a loop\), so they are not listed \(e\.g\. {corpus}/spk/gone\.wav "
                                         rf"-> {tmp_path}/unmounted/gone\.wav\)$") as said:
        assert corpus_files(corpus) == [corpus / "spk" / "a.wav"]
    assert len(said) == 1
    (corpus / "spk" / "gone.wav").unlink()
    (corpus / "spk" / "loop.wav").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert corpus_files(corpus) == [corpus / "spk" / "a.wav"]


def test_a_link_back_up_to_a_corpus_given_as_dot_is_said(tmp_path, monkeypatch):
    """`--corpus .`: the corpus' own first path is `.`, which its files' paths (`spk/a.wav`) do not spell; the link
    back up to it is said all the same, as for a corpus given by name."""
    from hifigan.data.corpus import corpus_files

    (tmp_path / "spk").mkdir()
    (tmp_path / "spk" / "a.wav").write_bytes(b"x")
    (tmp_path / "b.wav").write_bytes(b"x")
    (tmp_path / "spk" / "up").symlink_to(tmp_path, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning) as said:
        files = corpus_files(".")
    assert files == [Path("b.wav"), Path("spk/a.wav")]
    assert [str(w.message) for w in said] == [
        ".: 1 folder is another path to a folder listed already (symlinks), not entered again, so each of its 2 "
        "audio files is listed once, by its first path (e.g. spk/up is .)"]
