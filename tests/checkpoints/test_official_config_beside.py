"""The official train.py copies its config into the checkpoint folder as config.json, and the official inference.py
reads it from there: a g_* file given without a config is read with the config.json beside it, noted in one line."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.errors import Note
from hifigan.inference.vocoder import Vocoder
from hifigan.training.config_choice import choose_config
from hifigan.training.options import TrainJob
from tests.support.cli_runs import SR, failed_cleanly, files_in, run, run_module, tone, wav
from tests.support.files import REPO, save_config_json
from tests.support.official_reference import RefGenerator
from tests.support.tiny import tiny_config


@pytest.fixture
def official_folder(tmp_path):
    """An official checkpoint folder: g_00000010 of a tiny ResBlock1 generator and the config.json it was trained
    with; (config, g_ file, another folder to write in)."""
    config = tiny_config("1")
    folder = tmp_path / "cp_hifigan"
    folder.mkdir()
    torch.manual_seed(0)
    torch.save({"generator": RefGenerator(config).state_dict()}, folder / "g_00000010")
    save_config_json(folder / "config.json", config)
    return config, folder / "g_00000010", tmp_path


def _note(g_file, given: str = "config=...") -> str:
    """The note, naming how the caller gives another config: Python's argument, or the command's --config."""
    return (f"{g_file}: no config given: using {g_file.parent / 'config.json'}, beside it, as the official "
            f"inference.py does (pass {given} to use another)")


def test_vocoder_reads_the_config_json_beside_a_g_file_and_says_so(official_folder):
    config, g_file, _ = official_folder
    with pytest.warns(Note) as noted:
        vocoder = Vocoder.from_checkpoint(g_file)
    assert [str(w.message) for w in noted] == [_note(g_file)]
    assert vocoder.config == config
    mel = torch.randn(config.num_mels, 16) - 5
    assert torch.equal(vocoder(mel), Vocoder.from_checkpoint(g_file, config)(mel))


def test_a_given_config_wins_and_the_file_beside_is_not_read(official_folder):
    config, g_file, _ = official_folder
    (g_file.parent / "config.json").write_text("{ not json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Vocoder.from_checkpoint(g_file, config).config == config


def test_vocode_without_config_notes_the_file_it_read(official_folder):
    """In a child process: pytest records the warnings of its own, so its stderr would not show the note."""
    _, g_file, tmp_path = official_folder
    audio = wav(tmp_path / "a.wav", tone(SR // 4))  # copy synthesis at the tiny config's rate
    proc = run_module("vocode", "-c", g_file, "-o", tmp_path / "out", audio, "-q", cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [f"hifigan vocode: note: {_note(g_file, '--config')}"]
    assert files_in(tmp_path / "out") == ["a.wav"]


def test_a_broken_config_json_beside_is_a_one_line_error(official_folder, capsys):
    _, g_file, tmp_path = official_folder
    (g_file.parent / "config.json").write_text("{ not json")
    np.save(tmp_path / "a.npy", np.full((16, 16), -4.0, dtype=np.float32))
    with pytest.warns(Note):  # the config it tried (pytest records it: in a child it would be one more line)
        code, _, err = run(capsys, "vocode", "-c", g_file, "-o", tmp_path / "out", tmp_path / "a.npy")
    line = failed_cleanly(code, err, tmp_path / "out", str(g_file.parent / "config.json"))
    assert line.startswith(f"hifigan vocode: error: {g_file.parent / 'config.json'}: "), line


def test_init_from_a_g_file_without_config_trains_with_the_config_beside_not_v1(official_folder):
    config, g_file, _ = official_folder
    with pytest.warns(Note, match="no config given: using"):
        choice = choose_config(TrainJob(init_from=g_file), None, None, read_checkpoint(g_file))
    assert (choice.config, choice.read_with, choice.beside) == (config, g_file.parent / "config.json",
                                                                g_file.parent / "config.json")


def test_a_part_typo_in_the_config_json_beside_names_that_file(official_folder, capsys):
    """train --init-from a g_* file, no --config: a part's argument misspelt in the config.json beside it is one line
    naming that file (it named none: only a --config file or a resumed checkpoint was named)."""
    config, g_file, tmp_path = official_folder
    beside = g_file.parent / "config.json"
    save_config_json(beside, dataclasses.replace(config, generator_args={"bogus": 1}))
    with pytest.warns(Note):  # the config it read (pytest records it: in a child it would be one more line)
        code, _, err = run(capsys, "train", "--init-from", g_file, "--corpus", tmp_path, "--out", tmp_path / "run")
    line = failed_cleanly(code, err, tmp_path / "run")
    assert line == f"hifigan train: error: {beside}: generator_args: unknown argument 'bogus' (known: none)"
