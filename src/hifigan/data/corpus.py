"""Which files a run trains and validates on: a corpus folder, or file lists (LJSpeech-style, or Kaldi wav.scp) with
a wav root; the validation files are an explicit list, held-out speakers' clips, or a seeded held-out part."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hifigan.audio import AUDIO_SUFFIXES, find_audio
from hifigan.data.clip_names import file_key
from hifigan.data.file_lists import entry_lines, ids_in_both, is_wav_scp, list_entries, text_lines
from hifigan.data.held_out_draw import HeldOut, choose_validation, draw_problems
from hifigan.data.real_files import drop_repeats, identities, repeats, warn_left_out
from hifigan.data.segments import Segment, clip_noun, read_segments, recording_of, segments_beside
from hifigan.data.shared_audio import held_with_them, sharing_audio
from hifigan.data.speakers import speaker_problems, speakers_held_out, utt2spk_speaker_problems
from hifigan.data.utt2spk import clip_speakers, utt2spk_beside
from hifigan.errors import HifiganError, bad_inputs
from hifigan.messages import plural
from hifigan.messages.option_names import flag


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
    segments, problems, entries = read_segments(beside, entry_lines(lines), ids)
    for i, j in repeats(segments):  # one span of one real recording under two ids
        problems.append(HifiganError(beside, f"line {segments[i].line}: {segments[i].utt!r} is the segment of line "
                                             f"{segments[j].line} ({segments[j].utt!r}) under another id (list each "
                                             "clip once)"))
    return segments, problems, entries, {s.utt: (s.line, s) for s in segments}


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


@dataclass
class Corpus:
    """Where the data come from: a folder, or file lists with a wav root; and how validation is chosen: a list, a
    seeded draw (count, fraction, cap) or `valid_speakers`, the names of held-out speakers (['p225', 'p226'], as
    --valid-speakers p225,p226: hifigan.data.speakers). `cli`: built by `hifigan train`, so its refusals name the
    options (--valid-count), not these fields (option_names)."""

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

    def _utt2spk(self) -> Path | None:
        """The Kaldi utt2spk (else spk2utt) beside the training wav.scp, which names its clips' speakers; None where
        there is neither (a speaker is then the folder of its clips)."""
        return utt2spk_beside(self.train_list) if self.train_list and is_wav_scp(self.train_list) else None

    def _clip_speakers(self, utt2spk: Path) -> dict[Any, str]:
        """Each training clip's speaker by `utt2spk`: lists()' map (it read utt2spk and refused what is wrong), or,
        for lists not of its reading, the wav.scp read again for its utterance ids."""
        if (speakers := getattr(self, "_speakers", None)) is not None:
            return speakers
        scp: Path = self.train_list  # type: ignore[assignment]  # _utt2spk found utt2spk beside it
        return clip_speakers(utt2spk, scp, _filelist(scp, self.root())[3])[0]

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
        for name in self.valid_speakers or []:  # never from the command line, which splits its names at commas
            if "," in name:
                problems.append(HifiganError(None, f"{flag('valid_speakers', self.cli)}: speaker {name!r} holds a ',' "
                                                   "(a checkpoint stores the names separated by commas): rename its "
                                                   "folder"))
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
            if (utt2spk := self._utt2spk()) is None:
                problems += speaker_problems(self.speaker_keys(files), self.valid_speakers,
                                             self.folder if self.train_list is None else self.train_list, self.cli)
            else:  # its every bad line, then the speakers it does not name
                speakers, problems, entries = clip_speakers(utt2spk, self.train_list, named)  # type: ignore[arg-type]
                problems += [] if problems else utt2spk_speaker_problems(speakers.values(), self.valid_speakers,
                                                                         utt2spk, self.cli)
                total += entries
                self._speakers = speakers  # not a field: split() takes it, as a Corpus's value it is not
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
              lists: tuple[list[Path], list[Path] | None] | None = None, keys: Mapping[Path, str] | None = None,
              apart: bool = True) -> HeldOut:
        """The training and validation files (of `lists`, default `self.lists()`) and how the validation files were
        chosen; a drawn held-out set is drawn among the `usable` files only (an explicit --valid-list is taken as
        it is, and held-out speakers' clips are every one of theirs). `keys`: each file's (self.keys), where the
        caller has them. `apart` False: training segments that overlap a drawn or a speaker's held-out one are left
        in training, for a resume to hold them out from its own held-out set (held_apart)."""
        files, valid = self.lists() if lists is None else lists
        if valid is not None:
            return self._listed_split(files, valid)
        if self.valid_speakers:
            utt2spk = self._utt2spk()
            speakers = None if utt2spk is None else (utt2spk, self._clip_speakers(utt2spk))
            folders = self.speaker_keys(files) if speakers is None else []  # utt2spk names them: no folder read
            held = HeldOut(*speakers_held_out(files, folders, self.valid_speakers, self.cli, speakers))
        else:
            held = choose_validation(files, count=self.valid_count, fraction=self.valid_fraction, cap=self.valid_cap,
                                     seed=seed, root=self.root(), usable=usable, cli=self.cli, keys=keys)
        return held_apart(held) if apart else held

    def _listed_split(self, files: list[Path], valid: list[Path]) -> HeldOut:
        """The split a validation list gives: its clips validate; a training clip that is one of them (under any
        name: a symlink, a hard link) or holds some of their audio (shared_audio: a segment of a recording it holds
        whole, overlapping segments) is held out with them, and the validation line says how many."""
        train_keys, valid_keys = identities(files), identities(valid)
        held = set(valid_keys)
        same = [key in held for key in train_keys]
        shares = sharing_audio(files, train_keys, valid, valid_keys)
        train = [f for f, is_held, shared in zip(files, same, shares) if not (is_held or shared)]
        overlapping = [f for f, is_held, shared in zip(files, same, shares) if shared and not is_held]
        if files and not train:  # else "training set: no usable audio files (0 skipped, 0 silent)"
            n, noun = len(files), clip_noun(files)
            which = f"its only {noun}" if n == 1 else f"all {plural.count(n, noun)} it lists"
            there = f"in {self.valid_list} too" + (" or hold some of its audio" if overlapping else "")
            raise HifiganError(self.train_list, f"{which} {plural.agree(n, 'is', 'are')} {there} (held out, so "
                                                "none is left to train on): "
                                                f"{flag('valid_list', self.cli)} takes the validation files only")
        reason = f"{plural.count(len(valid), clip_noun(valid))} of {self.valid_list} ({flag('valid_list', self.cli)})"
        if shared := sum(same):  # the official recipe would train on them too: say so
            reason += (f"; {shared} of them {plural.agree(shared, 'is', 'are')} in {self.train_list} too, "
                       "held out and not trained on")
        if n := len(overlapping):  # a span of a held-out recording: its audio would be trained on
            counted = f"{plural.count(n, clip_noun(overlapping))} of {self.train_list}"
            reason += f"; {held_with_them(counted, overlapping)}"
        return HeldOut(train, valid, reason)


def held_apart(held: HeldOut) -> HeldOut:
    """`held` (drawn, or by speaker) with each training segment that overlaps a held-out one of its recording held out
    too, not trained on, as a --valid-list's are (shared_audio), and its line counting them: the held-out audio
    would be trained on, as overlapping segments (a sliding window, a dialogue's crosstalk) are drawn apart."""
    if not any(isinstance(clip, Segment) for clip in held.valid):
        return held
    shares = sharing_audio(held.train, identities(held.train), held.valid, identities(held.valid))
    overlapping = [f for f, shared in zip(held.train, shares) if shared]
    if not (n := len(overlapping)):
        return held
    return HeldOut([f for f, shared in zip(held.train, shares) if not shared], held.valid,
                   f"{held.reason}; {held_with_them(plural.count(n, 'training segment'), overlapping)}")
