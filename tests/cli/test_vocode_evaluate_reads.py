"""`hifigan vocode --evaluate` scores each input against its audio as the checks read it (CheckedMels keeps it beside
the mel, in the room the mels leave) or as the vocode pass read it again: an input is read once within the budget,
twice past it, not three times; the scores are the bits of reading each recording from its file."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from hifigan.audio import read_audio
from hifigan.cli.vocode_checks import CheckedMels, check_input, vocode_mel
from hifigan.evaluation.evaluate import evaluate_pairs
from hifigan.mel import MelSpectrogram
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import MelInput
from tests.support.cli_runs import SR, run, tone, wav
from tests.support.reads import opens_of

needs_inotify = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's inotify")


def opens_of_one_read(path: Path) -> int:
    """How many times one read of an audio file (read_audio: its header, then its samples) opens it."""
    with opens_of(path) as opened:
        read_audio(path)
    assert opened[0] > 0
    return opened[0]


@needs_inotify
def test_an_input_within_the_budget_is_read_once_and_scored_as_its_file(tmp_path, capsys, tiny_checkpoint, tiny_cfg):
    """`vocode --evaluate` opens its input as often as one read of it does: checked, vocoded, scored and drawn from
    that read (the scoring and the report's figure read it again, before). Opens are counted, not bytes read: the
    figure reads megabytes of fonts, more or fewer by the numbers it draws. The report's file entry holds what
    evaluate_pairs gives reading the recording from its file (two metrics of it: a sample changed changes the SNR).
    The table starts with the rates it was measured at."""
    path, out = wav(tmp_path / "x.wav", tone(SR // 3)), tmp_path / "out"
    with opens_of(path) as opened:
        code, stdout, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, "--evaluate", "--no-progress",
                                path)
    assert code == 0, err
    assert opened == [opens_of_one_read(path)]
    # the table says where it was measured, as `hifigan evaluate`'s does: STOI at its standard's rate, not the model's
    assert stdout.startswith(f"measured at {SR} Hz with the mel of the model's config\nSTOI and ESTOI at 10000 Hz "
                             "(resampled there, as their standards define them)\nmetric "), stdout
    [written] = json.loads((out / "evaluation.json").read_text())["files"]
    names = ["snr", "mel_l1"]
    [read] = json.loads(json.dumps(evaluate_pairs([("x", path, out / "x.wav")], tiny_cfg, None, metrics=names,
                                                  progress=False, cli=True).to_dict()))["files"]
    assert {k: v for k, v in written.items() if k not in ("metrics", "undefined")} == \
        {k: v for k, v in read.items() if k not in ("metrics", "undefined")}
    assert [written["metrics"][name] for name in names] == [read["metrics"][name] for name in names]


def test_the_mels_come_first_and_samples_fill_the_room_they_leave():
    """Samples are kept while they fit beside the mels, give way (the last kept first) to a later mel that would not
    fit otherwise, and fill the room a mel taken leaves; a mel too big even then evicts nothing, and its samples are
    left to the vocode pass's read of it."""
    mel, big = np.zeros(25, np.float32), np.zeros(100, np.float32)  # 100 B, 400 B
    audio = (np.zeros(75, np.float32), SR, 1)  # 300 B of samples
    kept = CheckedMels(budget=1000)
    for index in range(5):
        kept.keep(index, mel, audio)
    assert list(kept.mels) == [0, 1, 2, 3, 4] and list(kept.references) == [0] and kept.room == 200
    kept.keep(5, big)  # the 300 B of input 0's samples give way
    assert list(kept.references) == [] and kept.room == 100
    kept.keep(6, big, audio)  # 400 B > the 100 B left, with no samples to give way
    assert 6 not in kept.mels and kept.references == {} and kept.room == 100
    assert kept.take(0) is mel and kept.take(0) is None and kept.room == 200
    kept.hold(6, audio)  # the vocode pass's read of input 6: 300 B > 200 B
    assert kept.references == {} and kept.take(1) is mel and kept.room == 300
    kept.keep(7, big, audio)  # its samples would fit, its mel does not: neither is kept
    assert 7 not in kept.mels and kept.references == {} and kept.room == 300
    kept.hold(6, audio)
    assert kept.references == {6: audio} and kept.room == 0
    assert kept.references_of([Path(f"{i}.wav") for i in range(8)]) == {Path("6.wav"): audio}


@needs_inotify
def test_past_the_budget_the_audio_the_vocode_pass_reads_is_the_one_scored(tmp_path, tiny_cfg):
    """An input whose mel the checks could not keep is read again by the vocode pass (vocode_mel), and that read's
    audio is scored, held in the room of the mel taken before it: it is read twice in all, not three times, and its
    scores are those of its file, bit for bit."""
    first, path = wav(tmp_path / "first.wav", tone(10 * SR)), wav(tmp_path / "x.wav", tone(4 * SR))
    generated = {p: shutil.copy(p, tmp_path / f"generated-{p.name}") for p in (first, path)}  # the outputs' stand-ins
    frontend, model = MelSpectrogram(**tiny_cfg.mel_kwargs()), ModelMel.of(tiny_cfg)
    args = argparse.Namespace(resample=False, mix_to_mono=False, evaluate=True)
    inputs = [first, path]
    kept = CheckedMels(budget=frontend.checked(tone(10 * SR)).nbytes + 1000)  # the first mel fits, nothing else
    with opens_of(path) as opened:
        for index, p in enumerate(inputs):
            mel, _, audio = check_input(p, model, MelInput(), frontend, args)
            kept.keep(index, mel, audio)
        assert list(kept.mels) == [0] and kept.references == {}
        for index, p in enumerate(inputs):
            vocode_mel(kept, index, p, model, MelInput(), frontend, args)
        assert list(kept.references) == [1]
        pairs = [(p.stem, p, generated[p]) for p in inputs]
        report = evaluate_pairs(pairs, tiny_cfg, None, metrics=["snr", "mel_l1"], progress=False,
                                references=kept.references_of(inputs))
    assert opened == [2 * opens_of_one_read(path)]
    from_file = evaluate_pairs(pairs, tiny_cfg, None, metrics=["snr", "mel_l1"], progress=False)
    assert report.files == from_file.files
