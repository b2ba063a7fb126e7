"""A resumed run keeps its held-out files whatever the corpus did between runs: a held-out file renamed (or moved
within the corpus) stays held out, the checkpoint knowing each by its content too (data.held_out_content), so the
file under its new name is not trained on; files added that the options would now draw do not replace them; a file
gone is named in a warning."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.data.corpus import Corpus
from hifigan.data.held_out_content import CHUNK, follow_renames, held_out_content

pytestmark = pytest.mark.usefixtures("single_thread")


def _first_run(tmp_path: Path, tiny_corpus: Path, config_json: Path, *flags: str) -> tuple[Path, Path, dict]:
    """A one-step run on a copy of the corpus (for the test to change): the copy, the run folder and the
    checkpoint's data."""
    corpus, run = tmp_path / "corpus", tmp_path / "run"
    shutil.copytree(tiny_corpus, corpus)
    assert main(["train", "--corpus", str(corpus), "--config", str(config_json), "--no-progress", *flags, "--out",
                 str(run), "--max-steps", "1"]) == 0
    return corpus, run, read_checkpoint(run / "checkpoints" / "latest.pt")["data"]


def _resumed(run: Path, capsys) -> list[str]:
    """The warnings of `run` resumed for one more step (what it printed before, cleared)."""
    capsys.readouterr()
    with pytest.warns(UserWarning) as warned:
        assert main(["train", "--resume", str(run), "--max-steps", "2", "--no-progress"]) == 0
    return [str(w.message) for w in warned]


def test_a_renamed_held_out_file_stays_held_out_on_resume(tmp_path, tiny_corpus, tiny_config_json, capsys):
    corpus, run, first = _first_run(tmp_path, tiny_corpus, tiny_config_json, "--valid-count", "2")
    old, other = first["held_out"]
    (corpus / "moved").mkdir()
    (corpus / old).rename(corpus / "moved" / "renamed.wav")
    assert [w for w in _resumed(run, capsys) if "held-out" in w] == [
        f"1 of the run's 2 held-out files was renamed since ({old} is now moved/renamed.wav: the same content): it "
        "stays held out, not trained on"]
    assert "validation set: 2 clips" in capsys.readouterr().err
    resumed = read_checkpoint(run / "checkpoints" / "latest.pt")["data"]
    assert sorted(resumed["held_out"]) == sorted(["moved/renamed.wav", other])
    assert resumed["train_clips"] == first["train_clips"] == 6  # the renamed clip did not join the training set
    assert resumed["held_out_content"]["moved/renamed.wav"] == first["held_out_content"][old]


def test_resume_holds_out_the_runs_files_when_the_corpus_grew(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """--valid-count holds out the lowest draws: files added since can draw lower. The run's own held-out files stay
    held out (and none of them trains), and a changed training set ends the cut epoch at the checkpoint (its LR decay
with it), the warning saying so."""
    corpus, run, first = _first_run(tmp_path, tiny_corpus, tiny_config_json, "--valid-count", "2",
                                    "--validation-interval", "0")
    held = first["held_out"]
    assert len(held) == 2
    for i, clip in enumerate(sorted(corpus.glob("*.wav"))[:6]):
        shutil.copy(clip, corpus / f"added_{i}.wav")
    now = Corpus(folder=corpus, valid_count=2)
    seed = load_config(str(tiny_config_json)).seed
    assert sorted(now.keys(now.split(seed).valid)) != sorted(held)  # the options alone would now hold out others
    assert [w for w in _resumed(run, capsys) if "changed since" in w] == [
        "the training clips (6 -> 12) changed since the checkpoint: epoch 0 ends here (1 of "
        "its batches trained) and the learning rates decay now, as at every epoch's end; epoch 1 starts with the new "
        "order"]
    assert ("validation: the run's 2 held-out files, from its checkpoint; the options now would draw others\n"
            in capsys.readouterr().err)
    resumed = read_checkpoint(run / "checkpoints" / "latest.pt")
    assert sorted(resumed["data"]["held_out"]) == sorted(held)
    # step 1 was batch 1 of epoch 0; the rest of epoch 0 is dropped, so step 2 is batch 1 of epoch 1, at the
    # once-decayed learning rate (as every epoch's end decays it)
    assert (resumed["step"], resumed["epoch"], resumed["batch_in_epoch"]) == (2, 1, 1)
    config = load_config(str(tiny_config_json))
    for name in ("optim_g", "optim_d"):
        assert resumed[name]["param_groups"][0]["lr"] == pytest.approx(config.learning_rate * config.lr_decay,
                                                                       rel=1e-12), name


def test_resume_names_the_held_out_files_gone_from_the_corpus(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """A held-out file removed between runs: the resume warns naming it (val/mel_l1 then averages over fewer
    files), and the validation line says the list is the checkpoint's, even where the options would now draw the
    same files."""
    corpus, run, first = _first_run(tmp_path, tiny_corpus, tiny_config_json, "--valid-count", "3",
                                    "--validation-interval", "0")
    held = sorted(first["held_out"])
    gone = held[-1]
    (corpus / gone).unlink()
    assert [w for w in _resumed(run, capsys) if "held-out" in w] == [
        f"1 of the run's 3 held-out files is gone from the corpus ({gone}): val/mel_l1 now averages over the other "
        "2, not the set of its earlier values"]
    assert ("validation: the run's 2 held-out files, from its checkpoint (1 of its 3 gone from the corpus)"
            in capsys.readouterr().err)
    assert sorted(read_checkpoint(run / "checkpoints" / "latest.pt")["data"]["held_out"]) == held[:-1]


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
