"""A training scan names each file within its corpus once (ScannedCorpus.keys, file_key's names), which the held-out
draw takes (as the checkpoint's held-out keys and training digest do): the split is the one the draw makes naming the
files itself."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.clip_names import file_key
from hifigan.data.clip_scan import classify
from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.training.resume_layout import clips_digest
from tests.support.cli_runs import run
from tests.support.files import corpus_with_bad_files
from tests.support.tiny import tiny_config

CFG = tiny_config()


def test_each_file_is_named_once_as_file_key_names_it_and_drawn_as_the_draw_alone_draws(tmp_path, tiny_corpus,
                                                                                       monkeypatch):
    folder = corpus_with_bad_files(tmp_path / "c", tiny_corpus)
    (folder / "spk1").mkdir()
    for clip in sorted(tiny_corpus.iterdir())[:3]:  # a speaker folder, so names hold a "/"
        shutil.copy(clip, folder / "spk1" / clip.name)
    monkeypatch.chdir(tmp_path)  # a corpus given relative, as `--corpus c` is
    corpus = Corpus(folder=Path("c"), valid_count=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bad files' warnings: not what is tested here
        scanned = scan_corpus(corpus, CFG, lambda f: gather_facts(f, ReadSettings(CFG.sampling_rate), progress=False))
    clips = sorted(p.name for p in tiny_corpus.iterdir())
    assert sorted(scanned.keys.values()) == sorted([*clips, *(f"spk1/{n}" for n in clips[:3]), "garbage.wav",
                                                    "empty.wav", "silent.wav", "loud.wav"])
    assert scanned.keys == {f: file_key(f, Path("c")) for f in scanned.files}
    usable = {f for f, row in zip(scanned.files, scanned.facts.rows) if classify(row, CFG) == "usable"}
    alone = corpus.split(CFG.seed, usable)  # the draw naming each file itself
    assert (scanned.held.train, scanned.held.valid, scanned.held.reason) == (alone.train, alone.valid, alone.reason)
    assert len(scanned.held.valid) == 3


def test_the_checkpoint_keeps_the_scans_names_of_its_held_out_and_training_clips(tmp_path, capsys, tiny_corpus,
                                                                                 tiny_config_json):
    folder = corpus_with_bad_files(tmp_path / "c", tiny_corpus)  # 2 unreadable and 1 silent: never trained on
    out = tmp_path / "run"
    with pytest.warns(UserWarning) as caught:
        code, _, err = run(capsys, "train", "--corpus", folder, "--config", tiny_config_json, "-o", out,
                           "--valid-count", 2, "--max-steps", 0, "--validation-interval", 0, "--no-progress")
    assert code == 0, err
    said = [str(w.message) for w in caught]
    assert any("skipped 2 unreadable or empty files" in m for m in said), said
    assert any("skipped 1 silence-only file" in m for m in said), said
    data = read_checkpoint(out / "checkpoints" / "latest.pt")["data"]
    training = sorted(({p.name for p in tiny_corpus.iterdir()} | {"loud.wav"}) - set(data["held_out"]))
    assert len(data["held_out"]) == 2 and len(training) == 7
    assert (data["train_clips"], data["train_digest"]) == (7, clips_digest(training))
