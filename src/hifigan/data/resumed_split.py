"""A resumed run's split: its own held-out files held out, whatever the corpus holds now and whatever its options
would draw from it, so that no file the run held out trains in it."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from hifigan.data.corpus import Corpus, HeldOut
from hifigan.errors import HifiganError
from hifigan.messages import plural


def keep_held_out(corpus: Corpus, held: HeldOut, keys: Sequence[str]) -> HeldOut:
    """`held` (the corpus's split now) split again so that exactly the files `keys` name (a resumed run's) are held
    out: a corpus that grew or shrank since does not move a held-out file into training."""
    kept = set(keys)
    files = sorted([*held.train, *held.valid])
    if not kept:  # a run with validation off (--valid-count 0)
        return HeldOut(files, [], f"none of {plural.count(len(files), 'file')}: the run holds nothing out, from "
                                  "its checkpoint")
    out = [k in kept for k in corpus.keys(files)]
    valid = [f for f, o in zip(files, out) if o]
    if not valid or len(valid) == len(files):
        raise HifiganError(None, f"the run held out {plural.count(len(kept), 'file')}, of which {len(valid)} "
                                 f"{plural.agree(len(valid), 'is', 'are')} among the "
                                 f"corpus's {len(files)}: nothing left to validate or to train on")
    missing = sorted(kept - set(corpus.keys(valid)))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        warnings.warn(f"{len(missing)} of the run's {plural.count(len(kept), 'held-out file')} "
                      f"{plural.agree(len(missing), 'is', 'are')} gone from the corpus ({shown}): val/mel_l1 now "
                      f"averages over the other {len(valid)}, not the set of its earlier values", stacklevel=2)
    reason = f"the run's {plural.count(len(valid), 'held-out file')}, from its checkpoint"
    if missing:
        reason += f" ({len(missing)} of its {len(kept)} gone from the corpus)"
    if sorted(valid) == sorted(held.valid):
        return HeldOut(held.train, held.valid, reason)
    train = [f for f, o in zip(files, out) if not o]
    return HeldOut(train, valid, f"{reason}; the options now would draw others")
