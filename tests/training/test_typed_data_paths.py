"""`train` names the run's files by the paths as typed, as mel and vocode do, while what it keeps stays absolute
(skipped.tsv and the checkpoint's data paths: test_train's Python job resumes its relative corpus from another folder)
or within the corpus (the scan cache's names, hit whatever the spelling)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.corpus import Corpus
from hifigan.data.earlier_held_out import earlier_held_out
from hifigan.data.skipped_list import write_skipped
from hifigan.training.data_paths import as_typed, stored_spec
from tests.support.cli_runs import one_line


def test_train_names_inputs_as_typed_and_keeps_absolute_paths(tmp_path, monkeypatch, capsys, tiny_corpus,
                                                              tiny_config_json):
    monkeypatch.chdir(tmp_path)
    corpus = shutil.copytree(tiny_corpus, tmp_path / "corp").resolve()
    sf.write(corpus / "st.wav", np.zeros((4000, 2), np.float32), 8000)  # stereo: refused after the scan
    (corpus / "empty.wav").write_bytes(b"")  # skipped (its warning: skipped 1 ... file: corp/empty.wav)
    args = ["train", "--config", str(tiny_config_json), "--no-progress", "-o", "run"]
    assert main([*args, "--train-list", "nothere.txt"]) == 2
    assert one_line(capsys.readouterr().err) == "hifigan train: error: nothere.txt: no such file list (--train-list)"
    assert main([*args, "--corpus", "corp"]) == 2
    assert one_line(capsys.readouterr().err) == ("hifigan train: error: corp/st.wav: has 2 channels; only mono is "
                                                 "supported (use --mix-to-mono) (run/scan-cache.npz kept: the next "
                                                 "try reads only the files changed since)")
    with np.load(tmp_path / "run" / "scan-cache.npz") as cache:
        names = sorted(os.fsdecode(n) for n in cache["paths"].tobytes().split(b"\0"))
    assert names == sorted(p.name for p in corpus.iterdir())  # within the corpus: hit by `--corpus $PWD/corp` too
    write_skipped(tmp_path / "run" / "skipped.tsv", [(Path("corp/empty.wav"), "is empty")])  # a typed path
    assert (tmp_path / "run" / "skipped.tsv").read_text() == f"path\treason\n{corpus / 'empty.wav'}\tis empty\n"


def test_a_data_path_through_a_link_is_the_resolved_one_and_stored_absolute(tmp_path, monkeypatch):
    """Through a link, the path the run always read by (files beside a linked list's target, the cache's names)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert (as_typed("real"), as_typed("link"), as_typed(tmp_path / "real")) == (
        "real", str(tmp_path / "real"), str(tmp_path / "real"))
    assert stored_spec({"corpus": "real", "input_mels": None, "valid_count": 2}) == {
        "corpus": str(tmp_path / "real"), "input_mels": None, "valid_count": 2}


@pytest.mark.usefixtures("single_thread")
def test_a_list_of_absolute_paths_given_by_a_relative_name_resumes_with_its_held_out_files(
        tmp_path, monkeypatch, recwarn, tiny_corpus, tiny_config_json):
    """The clips' names within the corpus (file_key) are relative to the list's folder, `.` as typed and absolute on
    resume: an absolute path in the list is named so either way (it was kept absolute, and the resume, finding none
    of the run's held-out names, was refused: 'the run held out 2 files, of which 0 are among the corpus's 8')."""
    monkeypatch.chdir(tmp_path)
    corpus = shutil.copytree(tiny_corpus, tmp_path / "corp").resolve()
    Path("abs.txt").write_text("".join(f"{path}|some text\n" for path in sorted(corpus.iterdir())))
    assert main(["train", "--train-list", "abs.txt", "--config", str(tiny_config_json), "--no-progress",
                 "--valid-count", "2", "--out", "run", "--max-steps", "1"]) == 0
    first = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["data"]
    assert len(first["held_out"]) == 2 and all(key.startswith("corp/") for key in first["held_out"])
    assert main(["train", "--resume", "run", "--max-steps", "2", "--no-progress"]) == 0
    resumed = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["data"]
    assert (resumed["held_out"], resumed["train_digest"]) == (first["held_out"], first["train_digest"])
    assert not [w for w in recwarn if "changed since the checkpoint" in str(w.message)]  # the same clips: epoch goes on


def test_a_run_that_stored_absolute_held_out_names_resumes_with_them(tmp_path):
    """A run made before that rule stored its list's absolute paths as the held-out names: read as today's."""
    corpus = tmp_path / "corp"
    corpus.mkdir()
    (corpus / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "abs.txt").write_text(f"{corpus / 'a.wav'}|x\n{corpus / 'b.wav'}|y\n")
    stored = {"train_list": str(tmp_path / "abs.txt"), "held_out": [str(corpus / "a.wav")],
              "held_out_content": {str(corpus / "a.wav"): "1:4:x"}}
    assert earlier_held_out(stored, Corpus(train_list=tmp_path / "abs.txt"), 1234) == ["corp/a.wav"]
