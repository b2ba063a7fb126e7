"""A job built in Python names its fields, never `hifigan train`'s options, in everything it says after the checks
before training too: the Trainer's refusals (device, precision, cuda_graph), the scan's hints, the start and resume
lines, the stop warning, and the errors that stop a run midway (test_train_python_names: the refusals before)."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.corpus import Corpus
from hifigan.errors import HifiganError, WriteError
from hifigan.training.job import train
from hifigan.training.options import TrainJob, TrainOptions
from tests.support.files import SCAN_ONLY, left_in

pytestmark = pytest.mark.usefixtures("single_thread")
FLAG = re.compile(r"--[a-z]")


def _job(out: Path, corpus: Path, config: Path, data: dict | None = None, options: dict | None = None,
         **job) -> TrainJob:
    options = {"out": out, "quiet": True, "progress": False, "validation_interval": 0, **(options or {})}
    data = {"folder": corpus, "valid_count": 2} if data is None else data
    return TrainJob(TrainOptions(**options), Corpus(**data), config=config, **{"max_steps": 0, **job})


def _mels(folder: Path, corpus: Path, transposed: bool = False, sub: str = "") -> Path:
    """A 16-bin mel of each clip's length at hop 16 (as [frames, 16] where `transposed`), in `folder`/`sub`."""
    (folder / sub).mkdir(parents=True)
    for clip in sorted(corpus.glob("*.wav")):
        mel = np.full((16, sf.info(clip).frames // 16 + 1), -5.0, dtype=np.float32)
        np.save(folder / sub / f"{clip.stem}.npy", mel.T if transposed else mel)
    return folder


# (the job, from the test's folder, corpus and config; what its refusal must say): refused where the job's start,
# the Trainer or the scan meets the setting, each named as the Python caller gives it.
REFUSED = {
    "device": (lambda t, c, j: _job(t / "new", c, j, options={"device": "meta"}),
               "device='meta': a meta device holds no values"),
    "precision": (lambda t, c, j: _job(t / "new", c, j, options={"precision": "fp16"}),
                  "precision must be fp32 or bf16, got 'fp16'"),
    "cuda_graph": (lambda t, c, j: _job(t / "new", c, j, options={"cuda_graph": True}),
                   "cuda_graph needs device='cuda' (got cpu)"),
    "wav_root": (lambda t, c, j: _job(t / "new", c, j, data={"train_list": _list(t, c)}),
                 "unless Corpus.wav_root names where the WAVs are (LJSpeech: "
                 "Corpus(wav_root=Path('LJSpeech-1.1/wavs')))"),
    "transposed": (lambda t, c, j: _job(t / "new", c, j, input_mels=_mels(t / "mels", c, transposed=True)),
                   "; declare it: mel_convention='transposed"),
    "flat_folder": (lambda t, c, j: _job(t / "new", c, j, input_mels=_mels(t / "mels", c, sub="deep")),
                    "input_mels takes a flat folder"),
    "mix_to_mono": (lambda t, c, j: _job(t / "new", _stereo(t / "stereo", c), j),
                    "has 2 channels; only mono is supported (use mix_to_mono=True)"),
}


def _stereo(folder: Path, corpus: Path) -> Path:
    """The corpus with each clip as two equal channels."""
    folder.mkdir()
    for clip in sorted(corpus.glob("*.wav")):
        audio, rate = sf.read(clip)
        sf.write(folder / clip.name, np.stack([audio, audio], axis=1), rate)
    return folder


def _list(tmp_path: Path, corpus: Path) -> Path:
    """An official-style file list of the corpus's ids, kept away from its WAVs (no wav_root given)."""
    listing = tmp_path / "lists" / "train.txt"
    listing.parent.mkdir()
    listing.write_text("".join(f"{p.stem}|text\n" for p in sorted(corpus.glob("*.wav"))))
    return listing


@pytest.mark.parametrize("case", REFUSED)
def test_the_trainer_and_the_scan_refuse_a_python_job_naming_its_fields(case, tmp_path, tiny_corpus,
                                                                      tiny_config_json):
    build, said = REFUSED[case]
    with pytest.raises(HifiganError) as refused:
        train(build(tmp_path, tiny_corpus, tiny_config_json))
    message = str(refused.value)
    assert said in message and not FLAG.search(message), message
    before_the_scan = case in ("device", "precision", "cuda_graph")  # settings: not refused after a long scan
    assert left_in(tmp_path / "new") == ([] if before_the_scan else SCAN_ONLY)  # else the scan's cache, for the rerun


def test_the_lines_of_a_python_run_and_its_resume_name_fields(tmp_path, tiny_corpus, tiny_config_json, capsys):
    out = tmp_path / "run"
    train(_job(out, tiny_corpus, tiny_config_json, options={"quiet": False}, max_steps=1, epochs=3, max_minutes=5))
    first = capsys.readouterr().err
    assert "validation: 2 of 8 files (Corpus.valid_count)" in first
    assert re.search(r"stops at step 1 \(max_steps=1, before epochs=3 at step \d+\) or after 5 minutes "
                     r"\(max_minutes=5\)", first), first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(TrainJob(TrainOptions(progress=False, keep=1), resume=out, batch_size=1, max_steps=0))
    again = capsys.readouterr().err
    assert "these replace the run's settings from now on: keep=1 (the run's: 3); max_steps=0 (the run's: 1)" in again
    assert "these replace the run's config from now on: batch_size=1 (the run's: 2)" in again
    said = [str(w.message) for w in caught if "already" in str(w.message)]
    assert said == ["max_steps=0: the run is at step 1 already, so nothing trains (max_steps counts the run's steps, "
                    "not this call's)"]
    checkpoint = out / "checkpoints" / "ckpt_00000001.pt"
    train(_job(tmp_path / "more", tiny_corpus, tiny_config_json, options={"quiet": False}, init_from=checkpoint))
    started = capsys.readouterr().err
    assert f"config {tiny_config_json} over init_from=Path('{checkpoint}')'s" in started
    assert not FLAG.search(first + again + started + "".join(said)), first + again + started


def test_a_python_run_stopped_midway_says_how_to_resume_in_python(tmp_path, tiny_corpus, tiny_config_json):
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)

    def vanish(trainer, batch, result) -> None:
        for clip in corpus.glob("*.wav"):
            clip.unlink()

    out = tmp_path / "run"
    with pytest.raises(HifiganError) as stopped:
        train(_job(out, corpus, tiny_config_json, max_steps=5, on_step=vanish))
    assert f"fix the data, then resume=Path('{out}'))" in str(stopped.value) and not FLAG.search(str(stopped.value))

    def disk_full(trainer, batch, result) -> None:  # a write failing after the step's checkpoint was saved
        raise WriteError(out / "log.jsonl", "cannot write (No space left on device)")

    with pytest.raises(WriteError) as failed:
        train(_job(tmp_path / "full", tiny_corpus, tiny_config_json, options={"checkpoint_interval": 1}, max_steps=3,
                   on_step=disk_full))
    message = str(failed.value)
    assert f"(make room, then resume=Path('{tmp_path / 'full'}'))" in message and not FLAG.search(message), message
