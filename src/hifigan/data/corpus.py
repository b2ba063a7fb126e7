"""Which files a run trains and validates on: a corpus folder, or file lists (LJSpeech-style, or Kaldi wav.scp) with
a wav root; the validation files are an explicit list, held-out speakers' clips, or a seeded held-out part."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hifigan.audio import AUDIO_SUFFIXES, find_audio
from hifigan.data.file_lists import ids_in_both, is_wav_scp, list_entries, text_lines
from hifigan.data.one_utterance import utterance_key
from hifigan.data.real_files import drop_repeats, identities, repeats, warn_left_out
from hifigan.data.segments import Segment, clip_noun, read_segments, recording_of, segments_beside
from hifigan.data.speakers import speaker_problems, speakers_held_out
from hifigan.errors import HifiganError, bad_inputs
from hifigan.files.paths import relative_name
from hifigan.messages import plural
from hifigan.messages.option_names import flag, setting


def read_filelist(path: str | os.PathLike, wav_root: str | os.PathLike) -> list[Path]:
    """LJSpeech-style `id|text` lines (official training.txt / validation.txt) -> wav_root/<id>.wav, or a Kaldi
    wav.scp's paths (hifigan.data.file_lists), or with a `segments` file beside it its segments (Segment: Kaldi's
    rule, hifigan.data.segments). A file listed twice, or two ids of one real file (a symlink, a hard
    link), is an error: its copies could be held out and trained on at once. Every bad line is named in one error
    (hifigan.errors.bad_inputs)."""
    files, problems, total, _ = _filelist(path, wav_root)
    if problems:
        raise bad_inputs(problems, total)
    return files


def _filelist(path: str | os.PathLike, wav_root: str | os.PathLike
              ) -> tuple[list[Path], list[HifiganError], int, dict[str, tuple[int, Any]]]:
    """read_filelist's files, every problem of the list (one per bad line, or the list's own), how many lines
    it holds, and a wav.scp's utterances (id -> its line and clip; none for `id|text` lines, whose ids are files)."""
    path, wav_root = Path(path), Path(wav_root)
    ids: dict[str, Path] = {}
    files, problems, entries = list_entries(path, wav_root, ids)
    listed = list(files)
    for i, j in repeats(listed):  # two names of one real file (a link): as much a repeat as one id twice
        names = [file_key(listed[k], wav_root) for k in (i, j)]
        problems.append(HifiganError(path, f"line {files[listed[i]]}: {names[0]!r} is the file of line "
                                           f"{files[listed[j]]} ({names[1]!r}) under another name (list each clip "
                                           "once)"))
    if problems or not is_wav_scp(path) or (beside := segments_beside(path)) is None:
        return listed, problems, entries, {utt: (files[clip], clip) for utt, clip in ids.items()}
    lines, problems = text_lines(beside)
    if problems:
        return [], problems, 1, {}
    segments, problems, entries = read_segments(beside, lines, ids)
    for i, j in repeats(segments):  # one span of one real recording under two ids
        problems.append(HifiganError(beside, f"line {segments[i].line}: {segments[i].utt!r} is the segment of line "
                                             f"{segments[j].line} ({segments[j].utt!r}) under another id (list each "
                                             "clip once)"))
    return segments, problems, entries, {s.utt: (s.line, s) for s in segments}


DEFAULT_FRACTION = 0.05
DEFAULT_CAP = 150  # the official recipe validates on a fixed list of 150 LJSpeech clips


@dataclass
class HeldOut:
    """A split: the training and validation files (each sorted by path) and one line saying how many and why."""

    train: list[Path]
    valid: list[Path]
    reason: str


def corpus_files(folder: str | os.PathLike, suffixes: tuple[str, ...] = AUDIO_SUFFIXES, what: str = "audio"
                 ) -> list[Path]:
    """The files a corpus folder holds: those with one of `suffixes` anywhere below it, hidden ones skipped, linked
    folders followed (find_audio), each real file once (drop_repeats), sorted by path. `hifigan train --corpus`
    reads its audio so, and `mel` and `vocode` a folder INPUT. A linked folder not entered again is said in a
    warning (linked_folders), as the files dropped are, and so are symlinks of an audio name that lead to no file
    (broken_links) and folders that could not be listed (unreadable_folders)."""
    linked: list[tuple[Path, Path]] = []
    broken: list[Path] = []
    unreadable: list[OSError] = []
    files = find_audio(folder, recursive=True, suffixes=suffixes, what=what, linked=linked, broken=broken,
                       unreadable=unreadable)
    warn_left_out(Path(folder), files, what, linked, broken, unreadable)
    return drop_repeats(files, Path(folder))


def file_key(path: Path, root: Path | None) -> str:
    """A file's name within its corpus: its path relative to `root` (unchanged when the corpus moves). A list's
    absolute path under a root typed relative (or the reverse) is compared as both absolute: a resume's root is.
    A segment's is its utterance id, the name Kaldi's and ESPnet's other files give it."""
    if isinstance(path, Segment):
        return path.utt
    if root is not None and path.is_absolute() != root.is_absolute():
        path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return path.as_posix() if root is None else relative_name(path, root)


def _draw(key: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the seed and the file's key alone (not by the other files)."""
    digest = hashlib.sha256(f"{seed}\0{key}".encode("utf-8", "surrogateescape")).digest()  # a name not UTF-8: its bytes
    return int.from_bytes(digest[:8], "big") / 2**64


def draw_problems(count: int | None, fraction: float | None, cap: int | None, cli: bool) -> list[HifiganError]:
    """The held-out draw's settings out of range, each a problem: they depend on no file, so `hifigan train` meets
    them before its scan (Corpus.conflicts) and choose_validation refuses them too."""
    problems = []
    if count is not None and count < 0:
        problems.append(HifiganError(None, f"{setting('valid_count', count, cli)}: hold out 1 or more files (fewer "
                                           f"than the usable ones), or 0 with {setting('validation_interval', 0, cli)} "
                                           "(nothing held out, validation off)"))
    if count is None and fraction is not None and not 0 < fraction < 1:
        problems.append(HifiganError(None, f"{setting('valid_fraction', fraction, cli)}: hold out a fraction between 0 "
                                           "and 1 (both excluded), e.g. 0.05"))
    if count is None and cap is not None and cap < 0:
        problems.append(HifiganError(None, f"{setting('valid_cap', cap, cli)}: cap the held-out files at 1 or "
                                           "more, or 0 (no cap)"))
    return problems


def choose_validation(
    files: Sequence[Path], *, count: int | None = None, fraction: float | None = None, cap: int | None = None,
    seed: int = 1234, root: Path | None = None, usable: Collection[Path] | None = None, cli: bool,
    utterances: bool = True,
) -> HeldOut:
    """Hold out files by a seeded hash of each one's path relative to `root` (a clip keeps its draw when the corpus
    grows or moves). With `count`: the `count` lowest draws. Otherwise every file whose draw is below `fraction`
    (default 5%), at least one, and at most `cap` of them (default 150; 0: no cap), the lowest draws: membership
    changes when files are added only through the cap. `count` 0: none (a run with validation off).
    Only `usable` files (default: all) are drawn; the others
    stay with the training files, where the scan skips them. `utterances`: the recordings of one utterance (VCTK's
    _mic1/_mic2, one_utterance) draw one number and count once, so they are held out together (False: each file
    alone, as versions before this rule drew). `cli` False: the refusals and the reason name Corpus's fields."""
    every = sorted(files)
    noun = clip_noun(every)  # a segments file's clips are segments, not files
    if count == 0:  # validation off (--validation-interval 0): every file trains
        return HeldOut(every, [], f"none of {plural.count(len(every), noun)} ({setting('valid_count', 0, cli)}: "
                                  "nothing held out, validation off)")
    files = every if usable is None else [f for f in every if f in usable]
    unusable = [f for f in every if usable is not None and f not in usable]
    if len(files) < 2:
        are = plural.agree(len(files), "is", "are")
        what = f", found {len(files)}" if usable is None else f" ({len(files)} of {len(every)} {are} usable)"
        raise HifiganError(None, f"need at least 2 audio {noun}s to hold out a validation clip{what}")
    units: dict[str, list[int]] = {}  # each utterance's files (one file each, but for VCTK's two microphones)
    for i, key in enumerate(file_key(f, root) for f in files):
        units.setdefault(utterance_key(key) if utterances else key, []).append(i)
    names = list(units)
    word = noun if len(names) == len(files) else "utterance"
    if len(names) < 2:
        raise HifiganError(None, f"need at least 2 utterances to hold out a validation clip: the {len(files)} usable "
                                 "files are the _mic1 and _mic2 recordings of one, held out together")
    draws = [_draw(name, seed) for name in names]
    order = sorted(range(len(names)), key=lambda i: (draws[i], names[i]))
    if problems := draw_problems(count, fraction, cap, cli):
        raise problems[0]
    if count is not None:
        if count >= len(names):
            raise HifiganError(None, f"cannot hold out {count} of {plural.count(len(names), word)} (keep at least "
                                     "one for training)")
        reason = f"{count} of {plural.count(len(names), word)} ({flag('valid_count', cli)})"
    else:
        given = fraction is not None
        fraction = DEFAULT_FRACTION if fraction is None else fraction
        cap = DEFAULT_CAP if cap is None else cap
        below = sum(1 for d in draws if d < fraction)
        count = min(max(1, below), len(names) - 1, cap or len(names))
        source = flag("valid_fraction", cli) if given else "default"
        reason = (f"{count} of {plural.count(len(names), word)}: {fraction:g} of them by seeded path hash ({source}) "
                  f"drew {below}")
        reason += f", capped at {cap} ({flag('valid_cap', cli)})" if count == cap and below > cap else ""
        reason += ", at least 1" if below == 0 else ""
    held = {i for u in order[:count] for i in units[names[u]]}
    if word == "utterance":
        reason += (f"; {plural.count(len(held), noun)} held out: an utterance's recordings (_mic1, _mic2) "
                   "on one side")
    reason += f"; {plural.count(len(unusable), f'unusable {noun}')} never held out" if unusable else ""
    return HeldOut(sorted([*(f for i, f in enumerate(files) if i not in held), *unusable]),
                   [f for i, f in enumerate(files) if i in held], reason)


@dataclass
class Corpus:
    """Where the data come from: a folder, or file lists with a wav root; and how validation is chosen. `cli`: built
    by `hifigan train`, so its refusals name the options (--valid-count), not these fields (option_names)."""

    folder: Path | None = None
    train_list: Path | None = None
    valid_list: Path | None = None
    wav_root: Path | None = None
    valid_count: int | None = None
    valid_fraction: float | None = None
    valid_cap: int | None = None
    valid_speakers: list[str] | None = None
    cli: bool = False

    def resolve(self, seed: int) -> tuple[list[Path], list[Path]]:
        """The training and validation files (validation: the explicit list, else a seeded held-out part)."""
        held = self.split(seed)
        return held.train, held.valid

    def root(self) -> Path:
        """The folder file keys are relative to: --wav-root, else the corpus folder or the file list's folder."""
        if self.wav_root is not None:
            return self.wav_root
        return self.train_list.parent if self.train_list is not None else self.folder  # type: ignore[union-attr]

    def keys(self, files: Sequence[Path]) -> list[str]:
        """Each file's name within the corpus (file_key)."""
        return [file_key(f, self.root()) for f in files]

    def speaker_keys(self, files: Sequence[Path]) -> list[str]:
        """Each clip's key for its speaker (hifigan.data.speakers): its file's, a segment's recording's."""
        return self.keys([recording_of(f) for f in files])

    def conflicts(self) -> list[HifiganError]:
        """Options that do not go together, each a problem (never one silently ignored): a folder or a training
        list; --wav-root only with file lists; a validation list, held-out speakers or a drawn part; a count or a
        fraction; and the draw's settings out of range (draw_problems)."""
        problems = []
        if (self.folder is None) == (self.train_list is None):
            problems.append(HifiganError(None, "give either a corpus folder or a training file list (not both)"))
        if self.folder is not None and self.wav_root is not None:
            root, folder = flag("wav_root", self.cli), flag("corpus", self.cli)
            problems.append(HifiganError(None, f"{root} is the folder of the file lists' ids; a {folder} folder "
                                               f"holds its files itself (drop {root})"))
        drawn = {"valid_count": self.valid_count, "valid_fraction": self.valid_fraction, "valid_cap": self.valid_cap}
        for key, value in drawn.items():
            if value is not None and self.valid_list is not None:
                problems.append(HifiganError(None, f"{flag('valid_list', self.cli)} and {flag(key, self.cli)} exclude "
                                                   "each other (the list names the held-out files; the others draw "
                                                   "them)"))
        for key, value in {"valid_list": self.valid_list, **drawn}.items():
            if value is not None and self.valid_speakers is not None:
                problems.append(HifiganError(None, f"{flag('valid_speakers', self.cli)} and {flag(key, self.cli)} "
                                                   "exclude each other (a held-out speaker is held out whole: every "
                                                   "clip of theirs validates)"))
        if self.valid_speakers is not None and not self.valid_speakers:
            problems.append(HifiganError(None, f"{flag('valid_speakers', self.cli)} names no speaker: name 1 or "
                                               "more to hold out"))
        for key in ("valid_fraction", "valid_cap"):
            if drawn[key] is not None and self.valid_count is not None and self.valid_list is None:
                problems.append(HifiganError(None, f"{flag('valid_count', self.cli)} and {flag(key, self.cli)} "
                                                   "exclude each other (a count holds out exactly that many files)"))
        if self.valid_list is None:
            problems += draw_problems(self.valid_count, self.valid_fraction, self.valid_cap, self.cli)
        return problems

    def lists(self) -> tuple[list[Path], list[Path] | None]:
        """The folder's audio files or the training list's, and the validation list's (None without one): the
        folder walked or the lists read once, for `listed` and `split` to share."""
        conflicts = self.conflicts()
        if (self.folder is None) == (self.train_list is None):
            raise bad_inputs(conflicts, len(conflicts))
        root = self.root()
        files, problems, total, named = (_filelist(self.train_list, root) if self.train_list is not None
                                         else (corpus_files(self.folder), [], 0, {}))
        problems, total = conflicts + problems, total + len(conflicts)
        valid = None
        if self.valid_list is not None:  # both lists' problems in one error
            valid, valid_problems, valid_total, valid_named = _filelist(self.valid_list, root)
            problems, total = problems + valid_problems, total + valid_total
            if not problems:
                problems += ids_in_both(self.train_list, named, self.valid_list, valid_named)
        elif self.valid_speakers and not problems:  # each named speaker is an input
            problems += speaker_problems(self.speaker_keys(files), self.valid_speakers,
                                         self.folder if self.train_list is None else self.train_list, self.cli)
            total += len(self.valid_speakers)
        if problems:
            raise bad_inputs(problems, total)
        return files, valid

    def listed(self, lists: tuple[list[Path], list[Path] | None] | None = None) -> list[Path]:
        """Every file the corpus names (in `lists`, default `self.lists()`), each once (a file in both lists is
        listed once)."""
        files, valid = self.lists() if lists is None else lists
        return list(dict.fromkeys([*files, *(valid or [])]))

    def split(self, seed: int, usable: Collection[Path] | None = None,
              lists: tuple[list[Path], list[Path] | None] | None = None) -> HeldOut:
        """The training and validation files (of `lists`, default `self.lists()`) and how the validation files were
        chosen; a drawn held-out set is drawn among the `usable` files only (an explicit --valid-list is taken as
        it is, and held-out speakers' clips are every one of theirs)."""
        files, valid = self.lists() if lists is None else lists
        if valid is not None:
            held = set(identities(valid))  # a file of the list under any name: a symlink, a hard link
            train = [f for f, key in zip(files, identities(files)) if key not in held]
            if files and not train:  # else "training set: no usable audio files (0 skipped, 0 silent)"
                n = len(files)
                which = "its only file" if n == 1 else f"all {plural.count(n, 'file')} it lists"
                raise HifiganError(self.train_list, f"{which} {plural.agree(n, 'is', 'are')} in {self.valid_list} "
                                                    "too (held out, so none is left to train on): "
                                                    f"{flag('valid_list', self.cli)} takes the validation files only")
            reason = f"{plural.count(len(valid), 'file')} of {self.valid_list} ({flag('valid_list', self.cli)})"
            if shared := len(files) - len(train):  # the official recipe would train on them too: say so
                reason += (f"; {shared} of them {plural.agree(shared, 'is', 'are')} in {self.train_list} too, "
                           "held out and not trained on")
            return HeldOut(train, valid, reason)
        if self.valid_speakers:
            return HeldOut(*speakers_held_out(files, self.speaker_keys(files), self.valid_speakers, self.cli))
        return choose_validation(files, count=self.valid_count, fraction=self.valid_fraction, cap=self.valid_cap,
                                 seed=seed, root=self.root(), usable=usable, cli=self.cli)
