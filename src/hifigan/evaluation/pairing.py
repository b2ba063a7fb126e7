"""Which recording goes with which generated file, and how their samples line up: pairing by stem, trimming
lengths that differ by at most one hop (or --max-length-difference), and undoing a small delay. A message names a
setting as the caller gives it (`cli`: the command's option, `--max-shift 300`; else the argument, `max_shift=300`;
hifigan.messages.option_names)."""

from __future__ import annotations

import functools
import os
import unicodedata
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hifigan.audio import find_audio
from hifigan.errors import HifiganError, bad_inputs
from hifigan.messages.option_names import flag, setting, switched_on, wanted
from hifigan.messages.plural import count

Pair = tuple[str, Path, Path]  # (stem, reference file, generated file)


def check_pair_items(pairs: Sequence[Pair], name: str = "pairs") -> None:
    """Each item of `pairs` a (stem, reference, generated) triple: another (a (reference, generated) pair, a path) is
    a TypeError naming it as `name[i]`, where Python's unpacking error ("not enough values to unpack (expected 3,
    got 2)") came from inside the scoring."""
    for i, pair in enumerate(pairs):
        if isinstance(pair, str | os.PathLike) or not isinstance(pair, Sequence) or len(pair) != 3:
            raise TypeError(f"{name}[{i}] must be a (stem, reference file, generated file) triple, got {pair!r}")


def subset_note(chosen: int, recordings: int) -> str:
    """How many of a folder's recordings --subset chose (evaluate's first line, listen's start line)."""
    return f"{chosen} of the {recordings} recordings: the stems of the systems (--subset)"


def subset_hint(verb: str, cli: bool) -> str:
    """What --subset does, said where every recording needs its generated file (`verb`: evaluates, rates)."""
    return f"{switched_on('subset', cli)} {verb} only the stems the systems hold"


def subset_rule(cli: bool) -> str:
    """Why a recording of a test set needs every system's file: another system has one."""
    return f"another system has one; with {switched_on('subset', cli)} every system holds the same stems"


@dataclass
class Folder:
    """The audio files directly in a folder (hifigan.audio.find_audio), by stem, and the folder's own problems:
    missing, no audio directly in it, a stem shared by several files (each after the first, by path, named). With
    --subset, the recordings of other stems than the systems' are `left_out`: listed, never read nor checked."""

    path: Path
    files: dict[str, list[Path]]
    problems: list[HifiganError]
    left_out: list[Path] = field(default_factory=list)

    def unique(self) -> dict[str, Path]:
        """The file of each stem only one file has (a shared stem cannot tell which file to pair)."""
        return {stem: paths[0] for stem, paths in self.files.items() if len(paths) == 1}

    @functools.cached_property
    def by_folded_stem(self) -> dict[str, Path]:
        """A file of each stem, by its stem `folded` (the first in path order where several differ in case or Unicode
        normalization), the files left out too."""
        near: dict[str, Path] = {}
        for path in sorted([*self.left_out, *(path for paths in self.files.values() for path in paths)]):
            near.setdefault(folded(path.stem), path)
        return near

    def count(self) -> int:
        """How many audio files the folder holds (those left out by --subset not counted)."""
        return sum(len(paths) for paths in self.files.values())

    def held(self) -> int:
        """How many audio files the folder holds, those left out by --subset too."""
        return self.count() + len(self.left_out)

    def checked(self) -> dict[str, Path]:
        """`unique()`, where the folder has no problem; else an error naming every one."""
        if self.problems:
            raise bad_inputs(self.problems, max(self.count(), 1))
        return self.unique()


def scan_folder(folder: str | os.PathLike, stems: Collection[str] | None = None) -> Folder:
    """`folder`'s audio files by stem, with every problem found in it (none raised, for one line naming all); given
    `stems` (--subset), only the files of those stems, the others left out unchecked."""
    folder = Path(folder)
    try:
        paths = find_audio(folder)
    except HifiganError as e:  # missing, or no audio directly in it
        return Folder(folder, {}, [e])
    files: dict[str, list[Path]] = {}
    left_out = [path for path in paths if stems is not None and path.stem not in stems]
    for path in paths if stems is None else (path for path in paths if path.stem in stems):
        files.setdefault(path.stem, []).append(path)
    problems = [HifiganError(path, f"same stem as {same[0]}; cannot tell which to pair")
                for same in files.values() for path in same[1:]]
    return Folder(folder, files, problems, left_out)


def audio_files(folder: str | os.PathLike, stems: Collection[str] | None = None) -> dict[str, Path]:
    """The audio files directly in `folder`, by stem (given `stems`, --subset: those of these stems only); a folder
    without any, or files sharing a stem, are an error naming every one."""
    return scan_folder(folder, stems).checked()


def pair_by_stem(reference_dir: Path, generated_dir: Path, *, subset: bool = False, cli: bool = False) -> list[Pair]:
    """Match reference and generated files by stem; files without a partner are an error that names every one.
    `subset`: only the recordings of the generated files' stems are paired (a test set of a larger corpus)."""
    generated = scan_folder(generated_dir)
    reference = scan_folder(reference_dir, generated.files if subset else None)
    pairs, problems, total = match_stems(reference, generated, subset=subset, cli=cli)
    if problems := [*reference.problems, *generated.problems, *problems]:
        raise bad_inputs(problems, total)
    return pairs


def match_stems(reference: Folder, generated: Folder, *, subset: bool = False, cli: bool
                ) -> tuple[list[Pair], list[HifiganError], int]:
    """The pairs of files with the same stem (one file each), a problem for each file without a partner, and the
    count of files (so that a caller can name them with the other bad inputs in one line). A folder without audio
    pairs nothing and names no partner missing: its own problem says it, and every file of the other would be named.
    `subset`: the recordings are those of the systems' stems (scan_folder's `stems`), so one without a generated
    file is one that another system holds."""
    total = reference.count() + generated.count()
    if any(not folder.files and folder.problems for folder in (reference, generated)):
        return [], [], total
    hint = subset_rule(cli) if subset else subset_hint("evaluates", cli)
    unpaired = [paths[0] for stem, paths in reference.files.items() if stem not in generated.files]
    # the hint is said once, on the first without a case twin (whose problem names it instead): the rest count as one
    plain = next((p for p in unpaired if folded(p.stem) not in generated.by_folded_stem), None)
    problems = [_unpaired(p, "generated", generated, hint if p == plain else None) for p in unpaired]
    problems += [_unpaired(paths[0], "reference", reference) for stem, paths in generated.files.items()
                 if stem not in reference.files]
    refs, gens = reference.unique(), generated.unique()
    return [(stem, refs[stem], gens[stem]) for stem in refs if stem in gens], problems, total


def folded(stem: str) -> str:
    """A stem without its case and Unicode normalization (Unicode's canonical caseless match): 'Café' composed (NFC,
    as Linux tools write it) and 'café' decomposed (NFD, as macOS writes it) fold alike."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", stem).casefold())


def _unpaired(path: Path, kind: str, other: Folder, hint: str | None = None) -> HifiganError:
    """A file without a partner of its stem in the `other` folder (of `kind` files). The problem does not repeat
    the stem (the path says it), so that a long list's rest is counted as one problem; a file of the other folder
    whose stem differs only in case or Unicode normalization is named, and how (pairing compares names as they are
    stored, as Linux does), else `hint`."""
    near = other.by_folded_stem.get(folded(path.stem))
    if near is not None:
        how = [word for word, differs in (("case", unicodedata.normalize("NFC", path.stem)
                                                    != unicodedata.normalize("NFC", near.stem)),
                                          ("Unicode normalization (NFC/NFD)", path.stem.casefold()
                                           != near.stem.casefold())) if differs]
        hint = f"{near.name} differs in {' and '.join(how)}"
    return HifiganError(path, f"no {kind} file of the same stem in {other.path}{f' ({hint})' if hint else ''}")


def match_lengths(reference: np.ndarray, generated: np.ndarray, max_difference: int, source: str | None = None,
                  cli: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Trim both to the shorter length when they differ by at most `max_difference` samples (`length_tolerance`),
    else error."""
    diff = abs(len(reference) - len(generated))
    if diff > max_difference:
        raise HifiganError(source, f"lengths differ by {count(diff, 'sample')} (reference {len(reference)}, generated "
                                   f"{len(generated)}); at most {count(max_difference, 'sample')} are trimmed "
                                   f"({wanted('max_length_difference', cli=cli)} trims more, for audio aligned at its "
                                   "start, e.g. from ground-truth durations)")
    n = min(len(reference), len(generated))
    return reference[:n], generated[:n]


def length_tolerance(hop_size: int, max_length_difference: int | None, cli: bool = False) -> int:
    """How many samples `match_lengths` trims: --max-length-difference, by default one hop (what copy synthesis
    produces); a negative value is an error."""
    if max_length_difference is None:
        return hop_size
    if max_length_difference < 0:
        raise HifiganError(None, f"{flag('max_length_difference', cli)} must be 0 or more, got "
                                 f"{max_length_difference}")
    return max_length_difference


def check_max_shift(max_shift: int, hop_size: int, cli: bool) -> None:
    """--max-shift, the delay `align` may remove, is at most one hop (a larger lag is a misalignment, not a delay)."""
    if not 0 <= max_shift <= hop_size:
        raise HifiganError(None, f"{flag('max_shift', cli)} must be between 0 and one hop ({hop_size}), got "
                                 f"{max_shift}")


def align(reference: np.ndarray, generated: np.ndarray, max_shift: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Undo a small delay: the lag in [-max_shift, max_shift] with the largest absolute normalised
    cross-correlation (a polarity-inverted signal has the same delay; the SNR then reports the inversion).
    Of lags that correlate equally, the smallest delay wins, so that digital silence (no correlation at any lag)
    is not shifted at all, rather than to the edge of the range.

    A positive lag means the generated signal is late (generated[n + lag] ~ reference[n]); both are cut to
    their overlap. max_shift = 0 returns the inputs unchanged.
    """
    if max_shift <= 0:
        return reference, generated, 0
    n = min(len(reference), len(generated))
    x, y = reference[:n].astype(np.float64), generated[:n].astype(np.float64)
    best, best_lag = -np.inf, 0
    for lag in sorted(range(-max_shift, max_shift + 1), key=abs):  # 0, -1, 1, -2, 2, ...: ties go to the smaller
        a, b = (x[: n - lag], y[lag:]) if lag >= 0 else (x[-lag:], y[: n + lag])
        score = abs(np.dot(a, b)) / (np.sqrt(np.dot(a, a) * np.dot(b, b)) + 1e-20)
        if score > best + 1e-12:
            best, best_lag = score, lag
    return (*shift(reference, generated, best_lag), best_lag)


def shift(reference: np.ndarray, generated: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Both signals cut to their overlap with the generated one moved `lag` samples earlier (align's lag; a
    negative lag moves it later), so that a figure of a scored pair draws it as `align` scored it."""
    n = min(len(reference), len(generated))
    if lag >= 0:
        return reference[: n - lag], generated[lag:n]
    return reference[-lag:n], generated[: n + lag]



def warn_lags_at_limit(shifts: Sequence[tuple[str, int]], max_shift: int, cli: bool) -> None:
    """One warning naming every file (name, lag) whose lag is at the edge of [-max_shift, max_shift]: its true delay
    is probably outside the range searched, so the lag found there is no alignment."""
    at_limit = [f"{name} ({lag:+d})" for name, lag in shifts if max_shift > 0 and abs(lag) == max_shift]
    if at_limit:
        warnings.warn(f"{count(len(at_limit), 'file')} aligned at the limit of {setting('max_shift', max_shift, cli)}, "
                      f"the true delay is probably larger (or there is none to find): {', '.join(at_limit)}",
                      stacklevel=2)
