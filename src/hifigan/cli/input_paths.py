"""The INPUT arguments of `hifigan mel`, `hifigan vocode` and `hifigan check-mel`: a file as it is, a folder as the
files `hifigan train --corpus` would read in it (hifigan.data.corpus.corpus_files), no file given twice; and the
checks of the flat OUT/<stem><suffix> names mel and vocode write (no two inputs of one stem, no output name taken by
a folder, no file name given for the folder)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hifigan.errors import HifiganError
from hifigan.files.paths import file_keys


@dataclass
class Inputs:
    """The files the INPUT arguments name, in order (a folder's sorted by path), and the folders that hold none."""

    files: list[Path] = field(default_factory=list)
    problems: list[HifiganError] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many inputs a bad-inputs line counts: every file, and every folder that gave none."""
        return len(self.files) + len(self.problems)


def expand_inputs(paths: Sequence[Path], suffixes: tuple[str, ...], what: str) -> Inputs:
    """Each of `paths` as it is, but a folder as the files with one of `suffixes` (`what` files) anywhere below it,
    by the rule of `hifigan train --corpus` (hidden ones skipped, linked folders followed, each real file once); a
    folder holding none is a problem, and a path that is no folder is left for the command's own file checks."""
    from hifigan.data.corpus import corpus_files

    inputs = Inputs()
    for path in paths:
        if not path.is_dir():
            inputs.files.append(path)
            continue
        try:
            inputs.files.extend(corpus_files(path, suffixes, what))
        except HifiganError as e:
            inputs.problems.append(e)
    return inputs


def output_name_problems(files: Sequence[Path], out: Path, suffix: str) -> list[HifiganError]:
    """One problem per input whose OUT/<stem><suffix> another input writes already (naming both), or is a folder."""
    return [problem for problem in output_name_checks(files, out, suffix) if problem is not None]


def given_twice(files: Sequence[Path]) -> list[HifiganError | None]:
    """Each input's problem if it is a file an earlier input names already, however spelled (./a.wav, a link of its
    name: paths.file_keys), naming the first; None for a file given the first time. Compared only where a stem
    repeats (a stat, a resolve): a corpus's stems are mostly unique."""
    held: dict[str, dict[tuple, tuple[int, Path]]] = {}  # each stem's file keys: the first input holding each
    firsts: dict[str, tuple[int, Path]] = {}  # each stem's first input, its keys read once the stem repeats
    problems: list[HifiganError | None] = []
    for i, path in enumerate(files):
        if path.stem not in firsts:
            firsts[path.stem] = (i, path)
            problems.append(None)
            continue
        if path.stem not in held:
            held[path.stem] = dict.fromkeys(file_keys(firsts[path.stem][1]), firsts[path.stem])
        keys, mine = held[path.stem], file_keys(path)
        hits = [keys[key] for key in mine if key in keys]
        for key in mine:
            keys.setdefault(key, (i, path))
        problems.append(HifiganError(path, f"the same file as {min(hits)[1]}: an input given twice (give each once)")
                        if hits else None)
    return problems


def output_name_checks(files: Sequence[Path], out: Path, suffix: str) -> list[HifiganError | None]:
    """output_name_problems' problem of each input in turn, None for one whose output name is free. A file given
    twice (given_twice) is said first: `b/x.wav a/x.wav a/x.wav` gives a/x.wav twice, whatever else shares its
    stem."""
    first: dict[str, Path] = {}  # each stem's first input
    problems: list[HifiganError | None] = []
    for path, twice in zip(files, given_twice(files), strict=True):
        name, before = f"{path.stem}{suffix}", first.get(path.stem)
        if twice is not None:
            problems.append(twice)
        elif before is not None:
            problems.append(HifiganError(path, f"same output name as {before} ({name})"))
        elif (out / name).is_dir():
            problems.append(HifiganError(path, f"its output {out / name} is a folder"))
        else:
            problems.append(None)
        first.setdefault(path.stem, path)
    return problems


def one_per_input(overwrites: Sequence[HifiganError | None], names: Sequence[HifiganError | None]
                  ) -> list[HifiganError | None]:
    """The problem of each input's output name, at most one per input (None: none): an output that would overwrite an
    input (overwrite_checks), said once for an output two inputs of one stem write (the later input gets its
    same-name problem instead), else the name's own problem (output_name_checks). Both lists are in the inputs'
    order."""
    said: set[str | None] = set()
    problems: list[HifiganError | None] = []
    for over, name in zip(overwrites, names, strict=True):
        if over is not None and over.path not in said:
            said.add(over.path)
            problems.append(over)
        else:
            problems.append(name if name is not None else over)
    return problems


def refuse_file_name_for_folder(out: Path, command: str, suffixes: tuple[str, ...], written: str, when: str = ""
                                ) -> None:
    """-o is the folder of `written` files: a name ending in one of `suffixes` (out.wav), meant as the file to
    write, would become a folder out.wav/ holding them. Refused, unless it is an existing folder; `when` says when
    -o is a folder, where it is not always."""
    if out.suffix.lower() in suffixes and not out.is_dir():
        raise HifiganError(out, f"-o is the folder {command} writes {written} files into{when}; give a folder name "
                           f"(this one ends in {out.suffix})")
