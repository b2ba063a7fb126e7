"""How a message names a setting to its caller: the command's option (`--valid-count 0`, `--resample`) for work the
command line started, else the Python field or argument the caller sets (`Corpus(valid_count=0)`,
`resume=Path('runs/py')`, `resample=True`). One rule, for training, the data, audio loading and evaluation alike
(TrainJob.cli, Corpus.cli, the `cli` argument of load_audio and evaluate_pairs say which caller; Python's is the
default wherever the caller is a library function's)."""

from __future__ import annotations

import os

# Settings that a Python caller gives on its Corpus (`data=`), not on TrainJob or TrainOptions: the setting's key
# (as the option and checkpoints name it) -> the Corpus field.
CORPUS_FIELDS = {"corpus": "folder", "train_list": "train_list", "valid_list": "valid_list", "wav_root": "wav_root",
                 "valid_count": "valid_count", "valid_fraction": "valid_fraction", "valid_cap": "valid_cap",
                 "valid_speakers": "valid_speakers"}


def flag(key: str, cli: bool) -> str:
    """The command-line option of a setting (max_steps -> --max-steps); `cli` False (a job built in Python): the
    field's own name (`max_steps`; a Corpus field as `Corpus.valid_count`)."""
    if cli:
        return f"--{key.replace('_', '-')}"
    return f"Corpus.{CORPUS_FIELDS[key]}" if key in CORPUS_FIELDS else key


def setting(key: str, value: object, cli: bool, spelled: str | None = None) -> str:
    """A setting with its value as the caller writes it: `--resume runs/py` on the command line (the value as
    `spelled` there, default str(value)), else the keyword argument `resume=Path('runs/py')` (a Corpus field's:
    `Corpus(valid_count=0)`)."""
    if cli:
        return f"{flag(key, cli)} {value if spelled is None else spelled}"
    return _keyword(key, f"Path({os.fspath(value)!r})" if isinstance(value, os.PathLike) else repr(value))


def as_given(key: str, value: object, cli: bool) -> str:
    """`setting`, but a switch that is on as the caller turns it on: `--resample`, not `--resample True`."""
    return switched_on(key, cli) if value is True else setting(key, value, cli)


def as_stored(value: object, cli: bool) -> str:
    """A run's stored value of a setting, for `(the run's: ...)`: on the command line, one the run was not given
    (None, a switch left off) is `not given`, not Python's None or False; in Python the value itself."""
    return "not given" if cli and (value is None or value is False) else str(value)


def wanted(key: str, metavar: str | None = None, *, cli: bool) -> str:
    """A setting the caller should give, its value not known: `--corpus DIR` (`metavar` None: `--config`), else
    `Corpus(folder=...)` (`config=...`)."""
    if cli:
        return flag(key, cli) if metavar is None else f"{flag(key, cli)} {metavar}"
    return _keyword(key, "...")


def switched_on(key: str, cli: bool) -> str:
    """A switch the caller turns on: `--resample` on the command line, else `resample=True`."""
    return flag(key, cli) if cli else _keyword(key, "True")


def switched_off(key: str, cli: bool) -> str:
    """A switch turned off: `--no-cuda-graph` on the command line, else `cuda_graph=False`."""
    return f"--no-{flag(key, cli)[2:]}" if cli else _keyword(key, "False")


def settings_word(cli: bool) -> str:
    """What the caller's settings are called in a sentence: the command's "options", or the "fields" set in Python."""
    return "options" if cli else "fields"


def _keyword(key: str, shown: str) -> str:
    return f"Corpus({CORPUS_FIELDS[key]}={shown})" if key in CORPUS_FIELDS else f"{key}={shown}"
