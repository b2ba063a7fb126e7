"""A training scan names each file within its corpus once (ScannedCorpus.keys, file_key's names), and the held-out
draw, the checkpoint's held-out keys and its training digest take those names: the split is the one the draw makes
naming the files itself."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from hifigan.data.clip_names import file_key
from hifigan.data.clip_scan import classify
from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
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
