"""`hifigan vocode` reads each input once: the mel its checks computed from audio (or loaded from a .npy) is the
one vocoded, kept by CheckedMels within a budget; past it an input is read again (input_mel), to the same mel."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from hifigan.cli.vocode_checks import CheckedMels, check_input, input_mel
from hifigan.mel import MelSpectrogram
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import MelInput
from tests.support.cli_runs import SR, run, tone, wav
from tests.support.reads import PROC_IO, reads_of_the_extra_bytes
from tests.support.tiny import tiny_config

FRONTEND = MelSpectrogram(**tiny_config().mel_kwargs())


def an_input(folder: Path, kind: str, seconds: int) -> Path:
    """`seconds` of a tone for the tiny config: a 16-bit WAV, or its float32 .npy log-mel (the model's own)."""
    if kind == "wav":
        return wav(folder / f"in{seconds}.wav", tone(seconds * SR))
    np.save(folder / f"in{seconds}.npy", FRONTEND.checked(tone(seconds * SR)).numpy())
    return folder / f"in{seconds}.npy"


@pytest.mark.skipif(not PROC_IO.exists(), reason="needs Linux's /proc/self/io")
@pytest.mark.parametrize("kind", ["wav", "npy"])
def test_each_input_is_read_once(tmp_path, capsys, tiny_checkpoint, kind):
    """A file twice as long makes the command read its extra bytes once, not twice (the checks' read, then the
    vocode pass's, before): the checkpoint and all else it reads are the same for both and cancel out."""
    short, long = an_input(tmp_path, kind, 5), an_input(tmp_path, kind, 10)
    run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "warm", "--no-progress", short)  # imports, caches

    def vocode(path: Path) -> int:
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / path.stem, "--no-progress", path)
        assert code == 0, err
        return 0

    per_byte = reads_of_the_extra_bytes(vocode, short, long)
    assert 0.9 < per_byte < 1.1, per_byte


def test_the_mels_kept_fit_the_budget_and_each_is_given_once():
    """Each mel is kept while it fits the room left (a later, smaller one may); take gives it up."""
    mels = [np.zeros((16, 10), np.float32), torch.zeros(16, 20), np.zeros((16, 5), np.float32)]  # 640, 1280, 320 B
    kept = CheckedMels(budget=1000)
    for index, mel in enumerate(mels):
        kept.keep(index, mel)
    assert kept.take(0) is mels[0] and kept.take(1) is None and kept.take(2) is mels[2]
    assert kept.take(0) is None and kept.take(2) is None


@pytest.mark.parametrize("kind", ["wav", "npy", "npy-log10"])
def test_a_mel_read_again_is_the_one_the_checks_kept(tmp_path, kind):
    """input_mel (an input past the budget) gives the checks' mel bit for bit: audio's computed the same way, a
    .npy's converted from --mel-convention the same way."""
    model = ModelMel.of(tiny_config())
    path = an_input(tmp_path, kind[:3], 1)
    options = MelInput(convention="log10" if kind == "npy-log10" else None)
    if kind == "npy-log10":
        np.save(path, np.load(path) / np.log(10))
    args = argparse.Namespace(resample=False, mix_to_mono=False)
    checked, _, _ = check_input(path, model, options, FRONTEND, args)
    again, _ = input_mel(path, model, options, FRONTEND, args)
    assert type(again) is type(checked) and again.dtype == checked.dtype and again.shape == checked.shape
    assert np.array_equal(np.asarray(again).view(np.uint32), np.asarray(checked).view(np.uint32))
