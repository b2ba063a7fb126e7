"""A resumed run's split: its own held-out files held out, whatever the corpus holds now and whatever its options
would draw from it, so that no file the run held out trains in it (nor, held out by speaker, a clip of theirs added
since, or, drawn, a take added since of an utterance it held out)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from hifigan.data.corpus import Corpus
from hifigan.data.held_out_draw import HeldOut
from hifigan.data.one_utterance import utterance_key
from hifigan.data.segments import clip_noun
from hifigan.data.speakers import speakers_setting
from hifigan.errors import HifiganError
from hifigan.messages import plural


def keep_held_out(corpus: Corpus, held: HeldOut, keys: Sequence[str], utterances: bool = True,
                  names: Mapping[Path, str] | None = None) -> HeldOut:
    """`held` (the corpus's split now) split again so that exactly the files `keys` name (a resumed run's) are held
    out: a corpus that grew or shrank since does not move a held-out file into training. A --valid-list's files, or
    the held-out speakers' clips, are held out too, those added since said in a warning: they are what must not
    train; so are, of a drawn run, the other takes of a held-out utterance (VCTK's _mic1/_mic2, one_utterance), as
    its draw held them out together (`utterances` False: a run that drew each file alone, before that rule).
    `names`: each file's name within the corpus (Corpus.keys), where the caller has them."""
    kept = set(keys)
    files = sorted([*held.train, *held.valid])
    noun = clip_noun(files)
    if not kept:  # a run with validation off (--valid-count 0)
        return HeldOut(files, [], f"none of {plural.count(len(files), noun)}: the run holds nothing out, from "
                                  "its checkpoint")
    names = names if names is not None else dict(zip(files, corpus.keys(files)))  # each file named once
    named = _named(corpus)
    added = sorted({names[f] for f in held.valid} - kept) if named is not None else []
    if named is None and utterances and (added := _other_takes([names[f] for f in files], kept)):
        named = "the held-out utterances (a _mic1 or _mic2 recording of one held out)"
    held_keys = kept.union(added)
    out = [names[f] in held_keys for f in files]
    valid = [f for f, o in zip(files, out) if o]
    if not valid or len(valid) == len(files):
        raise HifiganError(None, f"the run held out {plural.count(len(kept), noun)}, of which {len(valid)} "
                                 f"{plural.agree(len(valid), 'is', 'are')} among the "
                                 f"corpus's {len(files)}: nothing left to validate or to train on")
    missing = sorted(kept - {names[f] for f in valid})
    if missing:
        warnings.warn(f"{len(missing)} of the run's {plural.count(len(kept), f'held-out {noun}')} "
                      f"{plural.agree(len(missing), 'is', 'are')} gone from the corpus ({_shown(missing)}): val/mel_l1 "
                      f"now averages over the other {len(valid)}, not the set of its earlier values", stacklevel=2)
    if added:
        warnings.warn(f"{plural.count(len(added), noun)} of {named} "
                      f"{plural.agree(len(added), 'is', 'are')} not among the run's held-out files ({_shown(added)}): "
                      f"held out too, not trained on; val/mel_l1 now averages over {len(valid)}, not the set of its "
                      "earlier values", stacklevel=2)
    reason = f"the run's {plural.count(len(valid) - len(added), f'held-out {noun}')}, from its checkpoint"
    if missing:
        reason += f" ({len(missing)} of its {len(kept)} gone from the corpus)"
    reason += f", and {len(added)} added to {named} since" if added else ""
    if sorted(valid) == sorted(held.valid):
        return HeldOut(held.train, held.valid, reason)
    train = [f for f, o in zip(files, out) if not o]
    now = ("the list now names others" if corpus.valid_list is not None else "the speakers now have other clips"
           if corpus.valid_speakers else "the options now would draw others")
    return HeldOut(train, valid, f"{reason}; {now}")


def _named(corpus: Corpus) -> str | None:
    """What names the held-out files, for the warning of those added since: the --valid-list, or the held-out
    speakers; None where a draw chose them."""
    if corpus.valid_list is not None:
        return str(corpus.valid_list)
    if corpus.valid_speakers:
        return f"the held-out speakers ({speakers_setting(corpus.valid_speakers, corpus.cli)})"
    return None


def _other_takes(keys: Sequence[str], kept: set[str]) -> list[str]:
    """The files of `keys` not `kept` that are another take of a kept file's utterance (one_utterance), sorted."""
    takes = {utterance_key(k) for k in kept}
    return sorted(k for k in keys if k not in kept and (u := utterance_key(k)) != k and u in takes)


def _shown(keys: Sequence[str]) -> str:
    """Up to five of `keys`, and how many more."""
    return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
