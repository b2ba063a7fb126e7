"""LJSpeech-style file lists: ids with or without an audio suffix (any case), the list's folder as the wav root
when none is given, the validation list's files taken out of training and each file listed once."""

from __future__ import annotations

import pytest

from hifigan.data.corpus import Corpus, read_filelist
from hifigan.errors import HifiganError


def test_an_id_with_an_audio_suffix_in_any_case_keeps_it(tmp_path):
    (tmp_path / "list.txt").write_text("a.WAV|x\nb.Flac|y\nc|z\nd.txt|w\n")
    assert read_filelist(tmp_path / "list.txt", tmp_path / "wavs") == [
        tmp_path / "wavs" / name for name in ("a.WAV", "b.Flac", "c.wav", "d.txt.wav")]


def test_lists_resolve_against_their_folder_and_validation_files_leave_training(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "training.txt").write_text("c0|a\nc1|b\nc2|c\n")
    (lists / "validation.txt").write_text("c1|b\nc3|d\n")
    corpus = Corpus(train_list=lists / "training.txt", valid_list=lists / "validation.txt")
    assert corpus.root() == lists
    held = corpus.split(seed=0)
    assert held.train == [lists / "c0.wav", lists / "c2.wav"] and held.valid == [lists / "c1.wav", lists / "c3.wav"]
    assert corpus.listed() == [lists / f"c{i}.wav" for i in (0, 1, 2, 3)]  # c1, in both lists, once


@pytest.mark.parametrize(("listed", "said"), [(1, "its only file is"), (2, "all 2 files it lists are")])
def test_a_training_list_held_out_whole_by_the_validation_list_is_named(tmp_path, listed, said):
    """--valid-list given the training list (or a superset): the error says so, not 'no usable audio files', in
    words that agree with the count."""
    (tmp_path / "training.txt").write_text("".join(f"c{i}|a\n" for i in range(listed)))
    (tmp_path / "all.txt").write_text("c0|a\nc1|b\nc2|c\n")
    with pytest.raises(HifiganError) as refused:
        Corpus(train_list=tmp_path / "training.txt", valid_list=tmp_path / "all.txt").split(seed=0)
    assert str(refused.value) == (f"{tmp_path / 'training.txt'}: {said} in {tmp_path / 'all.txt'} too (held out, so "
                                  "none is left to train on): Corpus.valid_list takes the validation files only")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_list_is_read_by_its_byte_order_mark(tmp_path, encoding):
    """Notepad's "Unicode" and PowerShell 5's `>` write UTF-16 with a mark: the same ids as the UTF-8 list."""
    mark = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    (tmp_path / "list.txt").write_bytes(mark + "caf\u00e9|un caf\u00e9\r\nna\u00efve|x\n".encode(encoding))
    assert read_filelist(tmp_path / "list.txt", tmp_path) == [tmp_path / "caf\u00e9.wav", tmp_path / "na\u00efve.wav"]


SAVE_AS = "save it as UTF-8, or UTF-16 with its byte-order mark"


@pytest.mark.parametrize(("text", "said"), [
    ("ok|a\ncaf\u00e9|b\nna\u00efve|c\nd\u00e9j\u00e0|d\n".encode("latin-1"),
     f"not UTF-8 text: line 2 holds byte 0xe9 at column 4, as 2 other lines do (Latin-1 or Windows-1252?); {SAVE_AS}"),
    ("ok|a\ncaf\u00e9|b\n".encode("cp1252"),
     f"not UTF-8 text: line 2 holds byte 0xe9 at column 4 (Latin-1 or Windows-1252?); {SAVE_AS}"),
    ("ok|a\nb|b\n".encode("utf-16-le"),
     f"not UTF-8 text: line 1 holds a NUL byte at column 2, as 2 other lines do (UTF-16 without its byte-order "
     f"mark?); {SAVE_AS}"),
    ("ok|a\nb|b\n".encode("utf-16") + b"c",
     f"not UTF-16 text, as its byte-order mark says: line 3 (truncated data); {SAVE_AS}"),
    ("ok|a\nb\0c|b\n".encode("utf-16"), "line 2 holds a NUL byte at column 2 (no path holds one)"),
], ids=["latin-1", "cp1252-once", "utf-16-unmarked", "utf-16-odd", "utf-16-nul"])
def test_a_list_not_in_its_encoding_is_one_problem_naming_its_first_bad_line(tmp_path, text, said):
    """Not a codec's message ('utf-8' codec can't decode byte 0xe9 in position 9): the line, what is wrong with it,
    how many more, and what to do."""
    (tmp_path / "list.txt").write_bytes(text)
    with pytest.raises(HifiganError) as refused:
        read_filelist(tmp_path / "list.txt", tmp_path)
    assert str(refused.value) == f"{tmp_path / 'list.txt'}: {said}"
