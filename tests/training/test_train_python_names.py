"""A job built in Python (TrainJob.cli False) is refused in the words its caller wrote: TrainJob's, TrainOptions' and
Corpus's fields, never `hifigan train`'s options (the command line's wording is the CLI tests')."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hifigan.data.corpus import Corpus
from hifigan.errors import HifiganError
from hifigan.training.job import train
from hifigan.training.options import TrainJob, TrainOptions
from tests.support.files import left_in

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_corpus, tiny_config_json) -> Path:
    """A run folder holding ckpt_00000000.pt (the initial weights: nothing trained)."""
    out = tmp_path_factory.mktemp("py") / "run"
    train(TrainJob(TrainOptions(out=out, quiet=True, progress=False, validation_interval=0),
                   Corpus(folder=tiny_corpus, valid_count=2), config=tiny_config_json, max_steps=0))
    return out


def _new(tmp_path: Path, corpus: Path, config: Path, data: dict | None = None, **job) -> TrainJob:
    options = {"out": tmp_path / "new", "quiet": True, "progress": False, **job.pop("options", {})}
    data = {"folder": corpus, "valid_count": 2} if data is None else data
    return TrainJob(TrainOptions(**options), Corpus(**data), config=config, max_steps=0, **job)


# (how the job is built, what its refusal must say): each a setting a Python caller gives, as it gives it.
CASES = {
    "max_minutes": (lambda t, c, j, r: _new(t, c, j, max_minutes=0), "max_minutes must be a number > 0 or inf, got 0"),
    "keep": (lambda t, c, j, r: _new(t, c, j, options={"keep": 0}), "keep must be an integer >= 1, got 0"),
    "batch_size": (lambda t, c, j, r: _new(t, c, j, batch_size=0), "batch_size must be an integer >= 1, got 0"),
    "init_from": (lambda t, c, j, r: _new(t, c, j, resume=r, init_from=r), "resume and init_from exclude"),
    "mel_convention": (lambda t, c, j, r: _new(t, c, j, options={"mel_convention": "log10"}),
                       "mel_convention names the convention of the input_mels mels"),
    "no_data": (lambda t, c, j, r: _new(t, c, j, data={}), "give Corpus(folder=...) or Corpus(train_list=...)"),
    "no_out": (lambda t, c, j, r: _new(t, c, j, options={"out": None}), "out is required"),
    "input_mels": (lambda t, c, j, r: _new(t, c, j, input_mels=t / "mels"), "(input_mels)"),
    "valid_off": (lambda t, c, j, r: _new(t, c, j, data={"folder": c, "valid_count": 0}),
                  "Corpus(valid_count=0) holds nothing out, so there is nothing to validate: add "
                  "validation_interval=0"),
    "drawn_twice": (lambda t, c, j, r: _new(t, c, j, data={"folder": c, "valid_count": 2, "valid_fraction": 0.5}),
                    "Corpus.valid_count and Corpus.valid_fraction exclude each other"),
    "negative_count": (lambda t, c, j, r: _new(t, c, j, data={"folder": c, "valid_count": -1}),
                       "Corpus(valid_count=-1): hold out 1 or more files (fewer than the usable ones), or 0 with "
                       "validation_interval=0"),
    "fraction": (lambda t, c, j, r: _new(t, c, j, data={"folder": c, "valid_fraction": 0.0}),
                 "Corpus(valid_fraction=0.0): hold out a fraction between 0 and 1 (both excluded), e.g. 0.05"),
    "cap": (lambda t, c, j, r: _new(t, c, j, data={"folder": c, "valid_cap": -2}),
            "Corpus(valid_cap=-2): cap the held-out files at 1 or more, or 0 (no cap)"),
    "seed": (lambda t, c, j, r: TrainJob(resume=r, seed=7), "seed=7: a resumed run keeps its seed (1234)"),
    "config": (lambda t, c, j, r: TrainJob(resume=r, config="v1"),
               "config='v1' differs from the resumed run's config"),
    "resumed_data": (lambda t, c, j, r: TrainJob(resume=r, data=Corpus(valid_count=3)),
                     "resume keeps the run's data and held-out files, and these fields differ: "
                     "Corpus(valid_count=3) (the run's: 2) (start a new run with out to change them)"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_job_built_in_python_is_refused_naming_its_fields(case, tmp_path, tiny_corpus, tiny_config_json, run):
    build, said = CASES[case]
    with pytest.raises(HifiganError) as refused:
        train(build(tmp_path, tiny_corpus, tiny_config_json, run))
    message = str(refused.value)
    assert said in message and not re.search(r"--[a-z]", message), message
    assert left_in(tmp_path / "new") == []  # each met before the scan
