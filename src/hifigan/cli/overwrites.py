"""An output that is one of the command's inputs is refused before anything is written: writing it would destroy
the input before or while it is read. Files are compared by what they are (hifigan.files.paths.file_keys), not by
how they are spelled."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from hifigan.errors import HifiganError, bad_inputs
from hifigan.files.paths import file_keys


def overwritten_inputs(outputs: Iterable[Path], inputs: Iterable[tuple[str, str | os.PathLike | None]],
                       option: str = "-o") -> list[HifiganError]:
    """One error per output that is one of the command's `inputs` ((what, path) pairs; a None path is skipped), naming
    the output as given: writing it would destroy the input before or while it is read."""
    return [problem for problem in overwrite_checks(outputs, inputs, option) if problem is not None]


def overwrite_checks(outputs: Iterable[Path], inputs: Iterable[tuple[str, str | os.PathLike | None]],
                     option: str = "-o") -> list[HifiganError | None]:
    """overwritten_inputs' error of each output in turn, None for one that overwrites no input."""
    inputs = [(what, path) for what, path in inputs if path is not None]
    first: dict[tuple, int] = {}  # each input's file_keys -> the first input holding it (one pass: a corpus is big)
    for i, (_, path) in enumerate(inputs):
        for key in file_keys(path):
            first.setdefault(key, i)
    problems: list[HifiganError | None] = []
    for out in outputs:
        if not (hits := [first[key] for key in file_keys(out) if key in first]):
            problems.append(None)
            continue
        what, path = inputs[min(hits)]
        spelled = "" if os.fspath(path) == os.fspath(out) else f" {os.fspath(path)}"
        problems.append(HifiganError(out, f"the output would overwrite the input {what}{spelled} (choose "
                                          f"another {option})"))
    return problems


def refuse_overwriting(outputs: Iterable[Path], inputs: Iterable[tuple[str, str | os.PathLike | None]],
                       option: str = "-o") -> None:
    """Fail, before anything is written, where an output is one of the inputs (see overwritten_inputs); several such
    outputs are listed in one line, as several bad inputs are (hifigan.errors.bad_inputs)."""
    outputs = list(outputs)
    problems = overwritten_inputs(outputs, list(inputs), option)
    if problems:
        raise bad_inputs(problems, len(outputs), "outputs")
