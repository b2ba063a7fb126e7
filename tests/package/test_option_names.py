"""How an error names a training setting (hifigan.messages.option_names): the option on the command line, else the field
a Python caller sets, on its Corpus for the data settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hifigan.data.corpus import Corpus
from hifigan.messages.option_names import CORPUS_FIELDS, flag, setting, wanted


@pytest.mark.parametrize(("key", "value", "option", "python"), [
    ("corpus", Path("data/wavs"), "--corpus data/wavs", "Corpus(folder=Path('data/wavs'))"),
    ("train_list", Path("t.txt"), "--train-list t.txt", "Corpus(train_list=Path('t.txt'))"),
    ("valid_list", Path("v.txt"), "--valid-list v.txt", "Corpus(valid_list=Path('v.txt'))"),
    ("wav_root", Path("w"), "--wav-root w", "Corpus(wav_root=Path('w'))"),
    ("valid_count", 0, "--valid-count 0", "Corpus(valid_count=0)"),
    ("valid_fraction", 0.5, "--valid-fraction 0.5", "Corpus(valid_fraction=0.5)"),
    ("valid_cap", 3, "--valid-cap 3", "Corpus(valid_cap=3)"),
    ("max_steps", 10, "--max-steps 10", "max_steps=10"),
    ("mel_convention", "log10", "--mel-convention log10", "mel_convention='log10'"),
    ("resume", Path("runs/py"), "--resume runs/py", "resume=Path('runs/py')"),
])
def test_a_setting_is_written_as_its_caller_writes_it(key, value, option, python):
    assert setting(key, value, cli=True) == option
    assert setting(key, value, cli=False) == python


def test_a_data_setting_is_named_as_a_corpus_field_and_wanted_without_a_value():
    assert flag("corpus", cli=False) == "Corpus.folder"
    assert flag("wav_root", cli=False) == "Corpus.wav_root"
    assert flag("input_mels", cli=False) == "input_mels"
    assert flag("input_mels", cli=True) == "--input-mels"
    assert wanted("corpus", "DIR", cli=True) == "--corpus DIR"
    assert wanted("corpus", "DIR", cli=False) == "Corpus(folder=...)"
    assert wanted("input_mels", "DIR", cli=False) == "input_mels=..."


def test_every_corpus_field_named_is_one_of_corpus():
    fields = {f.name for f in dataclasses.fields(Corpus)} - {"cli"}
    assert set(CORPUS_FIELDS.values()) == fields
