"""The paths a run's data come from (--corpus, --train-list, --valid-list, --wav-root, --input-mels), checked once
before the scan: one missing is one line naming it and its option, not each clip as "no such file". A resumed run's
path that was not given anew may have moved since: the line says so, and how to give its new place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hifigan.errors import HifiganError, bad_inputs
from hifigan.files.paths import require_folder
from hifigan.messages.option_names import flag, wanted
from hifigan.training.options import TrainJob

# Each data path's key (as checkpoints store it) and what it names: a folder (DIR) or a file list (FILE).
DATA_PLACES = {"corpus": "DIR", "train_list": "FILE", "valid_list": "FILE", "wav_root": "DIR", "input_mels": "DIR"}


def as_typed(path: str | os.PathLike) -> str:
    """A data path as the user typed it, which every message names the run's files by; but where a link lies on its
    way, the resolved path the run always read through (the files beside a linked list, the scan cache's names)."""
    real = Path(path).resolve()
    return os.fspath(path) if os.path.abspath(path) == str(real) else str(real)


def stored_spec(data: dict[str, Any]) -> dict[str, Any]:
    """The data options (job.data_spec's) as checkpoints store them: the paths absolute, so that --resume finds them
    from any folder."""
    return {k: str(Path(v).resolve()) if k in DATA_PLACES and v is not None else v for k, v in data.items()}


def which_option(key: str, the_runs: bool, cli: bool) -> str:
    """The option a data path came from, as an error says it: `--corpus`, or for a resumed run's own path (not given
    anew) `the run's --corpus: moved? give its new place with --corpus DIR` (`cli` False: the field, option_names)."""
    option = flag(key, cli)
    return (f"the run's {option}: moved? give its new place with {wanted(key, DATA_PLACES[key], cli=cli)}" if the_runs
            else option)


def given_paths(job: TrainJob) -> set[str]:
    """The data paths this job names itself (the others, resuming, are the run's)."""
    data = job.data
    named = {} if data is None else {"corpus": data.folder, "train_list": data.train_list,
                                     "valid_list": data.valid_list, "wav_root": data.wav_root}
    return {k for k, v in {**named, "input_mels": job.input_mels}.items() if v is not None}


def check_data_paths(data: dict[str, Any], given: set[str], resuming: bool, cli: bool) -> None:
    """Each path of `data` (data_spec's) that is set names a folder (DIR) or an existing file list (FILE), else one
    error naming every one that does not, each with which_option (the run's where `resuming` and not in `given`)."""
    problems = []
    named = [k for k in DATA_PLACES if data[k] is not None]
    for key in named:
        path, place = Path(data[key]), DATA_PLACES[key]
        try:
            if place == "DIR":
                require_folder(path)
            elif not path.exists():  # what else is wrong with a list, its reader says, line by line
                raise HifiganError(path, "no such file list")
        except HifiganError as e:
            option = which_option(key, resuming and key not in given, cli)
            problems.append(HifiganError(e.path, f"{e.problem} ({option})"))
    if problems:
        raise bad_inputs(problems, len(named), "data paths")
