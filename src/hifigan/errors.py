"""The project's one error type: every expected failure names the file and the problem."""

from __future__ import annotations

import json
import os
import re
from collections import Counter

from hifigan.messages.plural import first_few

# Exit statuses of a command that a signal's cause ends, as a shell reports a tool that signal ends (128 + the
# signal), each its own code where it happens: docs/errors.md lists them.
INTERRUPTED = 130  # Ctrl-C (SIGINT)
READER_GONE = 141  # the reader of standard output went away (SIGPIPE): `hifigan configs | head -1`, `train |& head`


class HifiganError(Exception):
    """An input or environment problem the user can fix; the CLI prints it as one line and exits `exit_code`."""

    exit_code = 2  # the command's exit status for it (docs/errors.md lists them)

    def __init__(self, path: str | os.PathLike | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)

    def __reduce__(self) -> tuple:
        """Pickled as (path, problem), its own class kept: a worker process's error reaches the parent as it was."""
        return type(self), (self.path, self.problem)


class Note(UserWarning):
    """Not a problem: what was chosen for the user where they gave nothing (the CLI prints it as
    `hifigan COMMAND: note: ...`, one line, as its warnings)."""


class ReportedElsewhere(HifiganError):
    """An error every rank of a torchrun job meets at once, which its rank 0 reports: the other ranks end with it
    (its exit code, `of`'s: 2 by default) without printing it again, so the job says it in one line."""

    def __init__(self, path: str | os.PathLike | None, problem: str, of: HifiganError | None = None) -> None:
        super().__init__(path, problem)
        if of is not None:
            self.exit_code = of.exit_code


MAKE_ROOM = "make room"  # what frees a write that met a full disk or quota: WriteError's default remedy


class WriteError(HifiganError):
    """An output that could not be written (a full disk, a file-size limit, an I/O error): nothing wrong with the
    inputs or the computation, so what the command made for that output is not worth keeping. `remedy`: what frees
    the write, by its cause (hifigan.files.write_failures.write_failure: MAKE_ROOM for a full disk), for a run's
    "(REMEDY, then --resume RUN)"."""

    def __init__(self, path: str | os.PathLike | None, problem: str, remedy: str = MAKE_ROOM) -> None:
        super().__init__(path, problem)
        self.remedy = remedy

    def __reduce__(self) -> tuple:
        return type(self), (self.path, self.problem, self.remedy)


class AudioError(HifiganError):
    """Audio that cannot be read, or that does not match what the model needs."""


class FileReadError(AudioError):
    """A file that could not be opened or read (an OSError: permissions, an I/O or network error): nothing is
    known of its content, and the next try may succeed (the scan cache does not keep it)."""


class MelError(HifiganError, ValueError):
    """A mel-spectrogram (a file, or an array given to the API) with the wrong shape, dtype or values; a ValueError
    too, so one `except ValueError` catches every bad mel the API is given."""


class MelBinsError(MelError):
    """A mel whose bin count is not the model's: the vocode command tells a [frames, bins] file by it."""


class ConfigError(HifiganError):
    """A configuration that cannot be loaded or names unknown keys."""


class CheckpointError(HifiganError):
    """A checkpoint that cannot be read or does not fit the model."""


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), to quote inside one line."""
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


# Between the problems bad_inputs lists, after LISTED. A problem that would make the list ambiguous (it holds the
# separator, as a path may, or a line break, or starts with a quote) is listed as a JSON string: split_problems
# gives every problem back exactly.
LIST_SEPARATOR = " | "
NOTHING_WRITTEN = "(nothing was written"  # how the count's note begins, either of the two
LISTED = f"{NOTHING_WRITTEN}): "
LISTED_SCAN_KEPT = f"{NOTHING_WRITTEN} but the scan cache, kept for the next try): "  # train's, after its scan
SCAN_KEPT = "the next try reads only the files changed since"  # a refusal after train's scan, after its cache's path
LISTED_AT_MOST = 10  # bad_inputs names this many problems; the rest are counted by problem, so 1000 stay one line
COUNTED_AT_MOST = 3  # ... and this many problems are counted by name, the others together
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def bad_inputs(problems: list[HifiganError], total: int, what: str = "inputs", scan_kept: bool = False
               ) -> HifiganError:
    """One error for every bad input (or, `what`, output) of a batch (every one is checked before anything is
    written): a single one as it is, several listed in one line after their count (split_problems splits it); past
    LISTED_AT_MOST, the others are counted by problem ("and 990 more: 990 sample rate is 16000 Hz, ..."), by kind
    where more than COUNTED_AT_MOST problems differ ("14 mel has N bins, ... (N: 270, 277, 284, ...)").
    `scan_kept`: train's scan cache was written, for the rerun (LISTED_SCAN_KEPT), else nothing was."""
    if len(problems) == 1:
        return problems[0]
    listed = [str(e) for e in problems[:LISTED_AT_MOST]]
    if rest := problems[LISTED_AT_MOST:]:
        counts = Counter(e.problem for e in rest).most_common()
        if len(counts) > COUNTED_AT_MOST:  # the same problem at other numbers (a mel's bins, a rate) is one kind
            counts = _by_kind([e.problem for e in rest])
        shown = [f"{n} {problem}" for problem, n in counts[:COUNTED_AT_MOST]]
        if others := sum(n for _, n in counts[COUNTED_AT_MOST:]):
            shown.append(f"{others} with other problems")
        listed.append(f"and {len(rest)} more: {'; '.join(shown)}")
    joined = LIST_SEPARATOR.join(_listed(problem) for problem in listed)
    return HifiganError(None, f"{len(problems)} of {total} {what} are bad {LISTED_SCAN_KEPT if scan_kept else LISTED}"
                              f"{joined}")


def _by_kind(problems: list[str]) -> list[tuple[str, int]]:
    """`problems` counted by kind, most first: problems that differ only in their numbers are one kind, said with
    each number that differs as N (N2, ...) and its first values after it: 'mel has N bins, the model expects 80
    (N: 270, 277, 284, ...)'."""
    kinds: dict[tuple[str, ...], list[list[str]]] = {}
    for problem in problems:
        parts = _NUMBER.split(problem)
        kinds.setdefault(tuple(parts[::2]), []).append(parts[1::2])
    counted = []
    for words, numbers in kinds.items():
        text, values, varying = [words[0]], [], 0
        for position, word in enumerate(words[1:]):
            seen = list(dict.fromkeys(found[position] for found in numbers))
            if len(seen) == 1:
                text.append(seen[0])
            else:
                varying += 1
                name = "N" if varying == 1 else f"N{varying}"
                text.append(name)
                values.append(f"{name}: {first_few(seen)}")
            text.append(word)
        counted.append(("".join(text) + (f" ({'; '.join(values)})" if values else ""), len(numbers)))
    return sorted(counted, key=lambda kind: -kind[1])


def in_path_order(problems: list[HifiganError]) -> list[HifiganError]:
    """`problems` sorted by the path each names (those naming none first), for a bad_inputs list whose first named
    are the first files, whichever check found them (train's corpus, evaluate's inputs; vocode keeps its order)."""
    return sorted(problems, key=lambda e: e.path or "")


def _listed(problem: str) -> str:
    """A problem as the list shows it: as it is, or quoted where it would not split back (or not stay one line)."""
    plain = (LIST_SEPARATOR not in problem and not problem.endswith(LIST_SEPARATOR[:-1])
             and not problem.startswith('"') and problem.splitlines() == [problem])
    return problem if plain else json.dumps(problem)


def split_problems(message: str) -> list[str]:
    """The problems a bad_inputs message (or the command's error line) lists, each as its own error says it."""
    head = message.find(NOTHING_WRITTEN)  # the count's note, LISTED or LISTED_SCAN_KEPT: the first in the line
    note = LISTED_SCAN_KEPT if head >= 0 and message.startswith(LISTED_SCAN_KEPT, head) else LISTED
    rest, problems = message.split(note, 1)[1], []
    while True:
        if rest.startswith('"'):
            problem, end = json.JSONDecoder().raw_decode(rest)
            rest, separator = rest[end:], rest[end:end + len(LIST_SEPARATOR)]
            if separator not in ("", LIST_SEPARATOR):
                raise ValueError(f"not a list of problems: {rest!r} follows {problem!r}")
            rest = rest[len(separator):]
        else:
            problem, separator, rest = rest.partition(LIST_SEPARATOR)
        problems.append(problem)
        if not separator:
            return problems
