"""Held-out speakers: a multi-speaker or universal vocoder is judged on voices it never heard (the paper's universal
model: 9 VCTK speakers held out). A speaker is a folder within the corpus: every clip below a folder of that name
is the speaker's (VCTK `wav48/p225/`, LibriTTS `train-clean-100/19/198/`: the speaker's folder holds its
chapters'), a file list's clips by their paths alike; a name the folders do not make certain is refused. A wav.scp
with a Kaldi `utt2spk` (or `spk2utt`) beside it names its clips' speakers there instead (hifigan.data.utt2spk)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from hifigan.data.segments import clip_noun
from hifigan.errors import HifiganError
from hifigan.messages import plural
from hifigan.messages.option_names import flag, setting


def speaker_names(text: str) -> list[str]:
    """`--valid-speakers p225,p226`: the names, each once, in order; an empty name or a repeat is refused."""
    names = [name.strip() for name in text.split(",")]
    if "" in names:
        raise ValueError(f"a speaker's name is empty in {text!r} (names are separated by commas: p225,p226)")
    if len(set(names)) < len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise ValueError(f"speaker {twice!r} is named twice in {text!r}")
    return names


def spelled(names: Sequence[str]) -> str:
    """The names as the option takes them, sorted (how a checkpoint stores them): `p225,p226`."""
    return ",".join(sorted(names))


SHOWN_SPEAKERS = 10  # a line names this many held-out speakers at most; of more, the first FEW_SPEAKERS and '...'
FEW_SPEAKERS = 5


class _FirstFew(list):
    """The first few of many names, written as a list with `...` after them."""

    def __repr__(self) -> str:
        return "[" + ", ".join(map(repr, self)) + ", ...]"


def speakers_setting(names: Sequence[str], cli: bool) -> str:
    """The held-out speakers as their caller gives them: `--valid-speakers p225,p226` on the command line, else
    `Corpus(valid_speakers=['p225', 'p226'])` (a checkpoint's spelled names split again); of more than
    SHOWN_SPEAKERS, sorted, the first few and `...` (a line that says a count of thousands lists none of them)."""
    names = sorted(names)
    if len(names) <= SHOWN_SPEAKERS:
        return setting("valid_speakers", spelled(names) if cli else names, cli)
    few = names[:FEW_SPEAKERS]
    return setting("valid_speakers", spelled(few) + ",..." if cli else _FirstFew(few), cli)


def speakers_differ(given: str, stored: str, cli: bool) -> str:
    """A resume's held-out speakers against the run's, both spelled: each side whole where neither names more than
    SHOWN_SPEAKERS (`--valid-speakers p225 (the run's: p225,p227)`), else how many each side names that the other
    lacks, and the first few."""
    mine, theirs = given.split(","), stored.split(",")
    if max(len(mine), len(theirs)) <= SHOWN_SPEAKERS:
        return f"{speakers_setting(mine, cli)} (the run's: {stored if cli else theirs})"
    lacking, added = sorted(set(theirs) - set(mine)), sorted(set(mine) - set(theirs))
    runs = plural.count(len(theirs), "speaker")
    if lacking:
        runs += f", {len(lacking)} of them not given: {plural.first_few(lacking)}"
    if added:
        are = plural.agree(len(added), "is", "are")
        runs += f"; {len(added)} given that {are} not the run's: {plural.first_few(added)}"
    return f"{speakers_setting(mine, cli)} ({plural.count(len(mine), 'speaker')}; the run's: {runs})"


def _folders(key: str) -> tuple[str, ...]:
    """The folders of a clip's key (clip_names.file_key of its file: a segment's recording's), its own name left out."""
    return PurePosixPath(key).parts[:-1]


def _all_folders(keys: Sequence[str]) -> list[tuple[str, ...]]:
    """Each key's _folders, parsed once per folder: a corpus's many clips are in few folders."""
    parsed: dict[str, tuple[str, ...]] = {}
    return [parsed[at] if (at := k[:k.rfind("/") + 1]) in parsed else parsed.setdefault(at, _folders(k)) for k in keys]


def _below(name: str) -> str:
    """What a name with a `/` (a folder's path within the corpus) begins the keys of its clips with."""
    return name.strip("/") + "/"


def speaker_problems(keys: Sequence[str], names: Sequence[str], where: os.PathLike | None, cli: bool
                     ) -> list[HifiganError]:
    """Each named speaker that no clip's folder names (the closest folder name said, if one is close), or that names
    folders at two depths (a LibriTTS speaker and another's chapter of one number): which clips are the speaker's is
    not certain then, and a path within the corpus says it."""
    option = flag("valid_speakers", cli)
    folders = set(_all_folders(keys))
    wanted = {name for name in names if "/" not in name}
    at: dict[str, set[tuple[tuple[str, ...], int]]] = {}  # each plain name's folders: their paths and depths
    for f in folders:
        for d, folder in enumerate(f):
            if folder in wanted:
                at.setdefault(folder, set()).add((f[:d + 1], d))
    problems = []
    for name in names:
        if "/" in name:
            if not any(k.startswith(_below(name)) for k in keys):
                problems.append(_unknown(name, folders, where, option))
            continue
        depths = {d for _, d in at.get(name, ())}
        if not depths:
            problems.append(_unknown(name, folders, where, option))
        elif len(depths) > 1:
            paths = sorted("/".join(path) for path, _ in at[name])
            problems.append(HifiganError(where, f"speaker {name!r} ({option}) names folders at {len(depths)} depths "
                                                f"({plural.first_few(paths)}): give "
                                                f"its folder's path within the corpus, e.g. {paths[0]}"))
    return problems


def _unknown(name: str, folders: Collection[tuple[str, ...]], where: os.PathLike | None, option: str
             ) -> HifiganError:
    """No clip is the speaker `name`'s: said with the closest folder name, if one is close."""
    known = {"/".join(path[:d + 1]) if "/" in name else path[d] for path in folders for d in range(len(path))}
    return _closest(name, known, HifiganError(where, f"no speaker {name!r} ({option}): no folder of that name holds "
                                                     "a clip (a speaker is the folder of its clips)"))


def utt2spk_speaker_problems(speakers: Collection[str], names: Sequence[str], where: Path, cli: bool
                             ) -> list[HifiganError]:
    """Each named speaker that no utterance of the utt2spk (or spk2utt) file `where` is (`speakers`: the ones it
    names), said with the closest of those, if one is close."""
    option, known = flag("valid_speakers", cli), set(speakers)
    why = f"no utterance is that speaker's ({where.name} beside the wav.scp names the speakers)"
    return [_closest(name, known, HifiganError(where, f"no speaker {name!r} ({option}): {why}"))
            for name in names if name not in known]


def _closest(name: str, known: Collection[str], error: HifiganError) -> HifiganError:
    """`error` with the known name closest to `name` suggested, if one is close."""
    close = difflib.get_close_matches(name.strip("/"), sorted(known), n=1)
    return HifiganError(error.path, f"{error.problem}; did you mean {close[0]!r}?") if close else error


def speakers_held_out(files: Sequence[Path], keys: Sequence[str], names: Sequence[str], cli: bool,
                      utt2spk: tuple[Path, Mapping[Any, str]] | None = None) -> tuple[list[Path], list[Path], str]:
    """The training files, the held-out ones (every clip of the named speakers, usable or not: none of theirs
    trains) and the reason's line; a corpus with no other speaker's clip is refused. A clip's speaker is its
    folder (`keys`: speaker_problems'), or where `utt2spk` is given (its path, each clip's speaker) the one it
    names."""
    if utt2spk is None:  # a folder of a plain name holds it, or it is below a name with a `/`
        plain, below = {n for n in names if "/" not in n}, tuple(_below(n) for n in names if "/" in n)
        theirs = [not plain.isdisjoint(f) or k.startswith(below) for k, f in zip(keys, _all_folders(keys))]
    else:
        held = set(names)
        theirs = [utt2spk[1][f] in held for f in files]
    valid = sorted(f for f, t in zip(files, theirs) if t)
    train = sorted(f for f, t in zip(files, theirs) if not t)
    option = speakers_setting(names, cli)
    if not train:
        raise HifiganError(None, f"every clip is a held-out speaker's ({option}): none is left to train on")
    source = "their folders" if utt2spk is None else str(utt2spk[0])
    return train, valid, (f"{len(valid)} of {plural.count(len(files), clip_noun(files))}: every clip of "
                          f"{plural.count(len(names), 'held-out speaker')} ({option}) by {source}, none trained on")
