"""Runs made by earlier versions resume as they were: a checkpoint that does not list its held-out files (before
a10f49b) holds out the files its version drew, not today's draw (which would validate on clips it trained on)."""

from __future__ import annotations

import random

import pytest

from hifigan.checkpoints.format import read_checkpoint, write_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.data.corpus import Corpus
from hifigan.data.earlier_held_out import earlier_held_out
from tests.support.files import CORPUS

pytestmark = pytest.mark.usefixtures("single_thread")
# the data a checkpoint stored before --valid-cap (767a75d) and held_out (a10f49b): 8b65025 wrote these keys
SHUFFLE_ERA = {"corpus": str(CORPUS), "train_list": None, "valid_list": None, "wav_root": None, "valid_count": None,
               "valid_fraction": None, "input_mels": None, "resample": False, "mix_to_mono": False}
HASH_ERA = {**SHUFFLE_ERA, "valid_cap": None}  # df73e13 .. a10f49b^


def test_an_earlier_checkpoints_held_out_files_are_those_its_version_drew():
    """The files each version held out of the bundled corpus at seed 1234, as 8b65025 and df73e13 chose them."""
    corpus = Corpus(folder=CORPUS)
    assert earlier_held_out(SHUFFLE_ERA, corpus, 1234) == ["LJ001-0018.wav"]
    assert earlier_held_out(HASH_ERA, corpus, 1234) == ["LJ001-0003.wav", "LJ001-0009.wav", "LJ001-0023.wav"]
    assert earlier_held_out({**SHUFFLE_ERA, "valid_count": 2}, corpus, 1234) == ["LJ001-0005.wav", "LJ001-0018.wav"]
    assert earlier_held_out({**HASH_ERA, "held_out": ["a.wav"]}, corpus, 1234) == ["a.wav"]
    assert earlier_held_out({**SHUFFLE_ERA, "valid_list": "v.txt"}, corpus, 1234) is None
    assert earlier_held_out({}, corpus, 1234) is None


def test_resuming_a_checkpoint_without_held_out_files_keeps_its_versions(tmp_path, tiny_corpus, tiny_config_json,
                                                                          capsys):
    """A run's latest checkpoint rewritten to the data an earlier version stored: the resume holds out the file its
    seeded shuffle drew (the first index of random.Random(seed).shuffle over the sorted files), and stores it."""
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--out", str(run),
                 "--max-steps", "1", "--no-progress"]) == 0
    latest = run / "checkpoints" / "latest.pt"
    obj = read_checkpoint(latest)
    obj["data"] = {**SHUFFLE_ERA, "corpus": str(tiny_corpus)}
    write_checkpoint(latest, obj)
    write_checkpoint(run / "checkpoints" / "ckpt_00000001.pt", obj)
    names = sorted(p.name for p in tiny_corpus.glob("*.wav"))
    order = list(range(len(names)))
    random.Random(load_config(str(tiny_config_json)).seed).shuffle(order)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--max-steps", "2", "--no-progress"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("validation: ")]
    assert said == ["validation: the run's 1 held-out file, from its checkpoint; the options now would draw others"]
    assert read_checkpoint(latest)["data"]["held_out"] == [names[order[0]]]
