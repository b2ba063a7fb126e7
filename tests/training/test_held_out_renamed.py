"""A held-out file renamed (or moved within the corpus) between runs stays held out on resume: the checkpoint knows
each held-out file by its content too (data.held_out_content), so the file under its new name is not trained on."""

from __future__ import annotations

import os
import shutil

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.corpus import Corpus
from hifigan.data.held_out_content import CHUNK, follow_renames, held_out_content

pytestmark = pytest.mark.usefixtures("single_thread")


def test_a_renamed_held_out_file_stays_held_out_on_resume(tmp_path, tiny_corpus, tiny_config_json, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--config", str(tiny_config_json), "--no-progress",
                 "--valid-count", "2", "--out", str(run), "--max-steps", "1"]) == 0
    first = read_checkpoint(run / "checkpoints" / "latest.pt")["data"]
    old, other = first["held_out"]
    (corpus / "moved").mkdir()
    (corpus / old).rename(corpus / "moved" / "renamed.wav")
    capsys.readouterr()
    with pytest.warns(UserWarning) as warned:
        assert main(["train", "--resume", str(run), "--max-steps", "2", "--no-progress"]) == 0
    assert [str(w.message) for w in warned if "held-out" in str(w.message)] == [
        f"1 of the run's 2 held-out files was renamed since ({old} is now moved/renamed.wav: the same content): it "
        "stays held out, not trained on"]
    assert "validation set: 2 clips" in capsys.readouterr().err
    resumed = read_checkpoint(run / "checkpoints" / "latest.pt")["data"]
    assert sorted(resumed["held_out"]) == sorted(["moved/renamed.wav", other])
    assert resumed["train_clips"] == first["train_clips"] == 6  # the renamed clip did not join the training set
    assert resumed["held_out_content"]["moved/renamed.wav"] == first["held_out_content"][old]


def test_only_the_same_file_under_another_name_is_taken_for_a_missing_one(tmp_path):
    """Renamed (the inode and bytes kept): taken. A copy (the bytes, another inode: a duplicate the run may have
    trained on), another file of its size, or the renamed file edited in place: not taken."""
    (tmp_path / "a.wav").write_bytes(b"RIFF one")
    contents = held_out_content([tmp_path / "a.wav"], ["a.wav"])
    inode = (tmp_path / "a.wav").stat().st_ino
    assert contents == {"a.wav": f"{inode}:8:92afe841073926b01e0fe1b1aa0decb811059321b79da633a8b9f27832d321f6"}
    shutil.copy(tmp_path / "a.wav", tmp_path / "copy.wav")
    (tmp_path / "b.wav").write_bytes(b"RIFF two")
    corpus = Corpus(folder=tmp_path)
    (tmp_path / "a.wav").rename(tmp_path / "c.wav")
    with pytest.warns(UserWarning, match=r"a\.wav is now c\.wav"):
        assert follow_renames(["a.wav"], contents, corpus) == ["c.wav"]
    with open(tmp_path / "c.wav", "r+b") as f:  # the same inode, other bytes
        f.write(b"riff")
    assert follow_renames(["a.wav"], contents, corpus) == ["a.wav"]  # copy.wav and b.wav neither


def test_many_renames_are_counted_and_shortened_and_a_file_gone_is_kept(tmp_path):
    """Six held-out files renamed, one deleted, one whose identity could not be read (not stored), one larger than a
    read's chunk: the stored size is the whole file's, the renamed ones are followed, the others kept by name, and
    the one warning counts the renamed (not the missing) and names five of them. A hard link of a file still held
    out is not taken for a missing one of the same inode."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"f{i}.wav").write_bytes(b"RIFF" + bytes([i]) * (CHUNK + 3 if i == 0 else 4))
    (corpus / "gone.wav").write_bytes(b"RIFF gone")
    keys = [*(f"f{i}.wav" for i in range(6)), "gone.wav", "unread.wav"]
    contents = held_out_content([corpus / k for k in keys], keys)
    assert sorted(contents) == sorted(keys[:7]) and contents["f0.wav"].split(":")[1] == str(CHUNK + 7)
    for i in range(6):
        (corpus / f"f{i}.wav").rename(corpus / f"r{i}.wav")
    (corpus / "gone.wav").unlink()
    with pytest.warns(UserWarning) as warned:
        followed = follow_renames(keys, contents, Corpus(folder=corpus))
    assert followed == [*(f"r{i}.wav" for i in range(6)), "gone.wav", "unread.wav"]
    shown = ", ".join(f"f{i}.wav is now r{i}.wav" for i in range(5))
    assert [str(w.message) for w in warned] == [
        f"6 of the run's 8 held-out files were renamed since ({shown} and 1 more: the same content): they stay held "
        "out, not trained on"]
    os.link(corpus / "r1.wav", corpus / "link.wav")
    linked = held_out_content([corpus / "r1.wav", corpus / "link.wav"], ["r1.wav", "link.wav"])
    (corpus / "r1.wav").unlink()
    assert follow_renames(["r1.wav", "link.wav"], linked, Corpus(folder=corpus)) == ["r1.wav", "link.wav"]
