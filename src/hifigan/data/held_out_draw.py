"""The seeded held-out draw: which files (or utterances) of a corpus validate, by a hash of the seed and each name
alone, so that adding files moves none of the others across; a count, a fraction and a cap say how many."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hifigan.data.clip_names import file_key
from hifigan.data.one_utterance import utterance_key
from hifigan.data.segments import clip_noun
from hifigan.errors import HifiganError
from hifigan.messages import plural
from hifigan.messages.option_names import flag, setting

DEFAULT_FRACTION = 0.05
DEFAULT_CAP = 150  # the official recipe validates on a fixed list of 150 LJSpeech clips


@dataclass
class HeldOut:
    """A split: the training and validation files (each sorted by path) and one line saying how many and why."""

    train: list[Path]
    valid: list[Path]
    reason: str


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
    utterances: bool = True, keys: Mapping[Path, str] | None = None,
) -> HeldOut:
    """Hold out files by a seeded hash of each one's path relative to `root` (a clip keeps its draw when the corpus
    grows or moves). With `count`: the `count` lowest draws. Otherwise every file whose draw is below `fraction`
    (default 5%), at least one, and at most `cap` of them (default 150; 0: no cap), the lowest draws: membership
    changes when files are added only through the cap. `count` 0: none (a run with validation off).
    Only `usable` files (default: all) are drawn; the others
    stay with the training files, where the scan skips them. `utterances`: the recordings of one utterance (VCTK's
    _mic1/_mic2, one_utterance) draw one number and count once, so they are held out together (False: each file
    alone, as versions before this rule drew). `keys`: each file's file_key under `root`, where the caller has them
    (else named here). `cli` False: the refusals and the reason name Corpus's fields."""
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
    for i, key in enumerate(file_key(f, root) if keys is None else keys[f] for f in files):
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
