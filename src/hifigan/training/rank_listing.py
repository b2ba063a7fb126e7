"""Every rank trains on rank 0's scan of the corpus, so every rank must list the same corpus: the same names
relative to the corpus root (file_key: mount points may differ between nodes), in the same order, of the same sizes.
Rank 0 hands each file's key digest with its scan rows; another rank compares its own listing and stops on the first
file that differs (else it would load its files with rank 0's facts and draw its own held-out set from its own
listing: a clip held out on one rank could train on another)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hifigan.data.clip_names import file_key
from hifigan.data.segments import recording_of
from hifigan.errors import HifiganError
from hifigan.messages.plural import agree, count

SAME_CORPUS = "every node needs the same corpus (the same files below its folder, of the same sizes)"


def listing_digests(files: Sequence[Path], root: Path | None) -> np.ndarray:
    """An 8-byte digest of each file's key (its path relative to `root`), in the files' order."""
    return np.array([int.from_bytes(hashlib.blake2b(file_key(f, root).encode(), digest_size=8).digest(), "big")
                     for f in files], dtype=np.uint64)


def file_sizes(files: Sequence[Path]) -> np.ndarray:
    """Each file's size in bytes (a segment's recording's), -1 where it cannot be stat'ed (as the scan's rows hold
    it)."""
    sizes = np.full(len(files), -1, dtype=np.int64)
    for i, f in enumerate(files):
        try:
            sizes[i] = os.stat(recording_of(f)).st_size
        except OSError:
            pass
    return sizes


def check_listing(files: Sequence[Path], root: Path | None, main_digests: np.ndarray, main_sizes: np.ndarray,
                  rank: int) -> None:
    """Stop with one line naming the first of this rank's `files` that differs from rank 0's listing (its key
    digests and sizes, in order): a file rank 0 does not list, one it lists elsewhere or of another size; or, when
    this rank lacks files of rank 0's, how many and where."""
    mine = listing_digests(files, root)
    if len(mine) == len(main_digests) and np.array_equal(mine, main_digests):
        sizes = file_sizes(files)
        differ = np.flatnonzero(sizes != main_sizes)
        if differ.size:
            i = int(differ[0])
            raise HifiganError(files[i], f"is {sizes[i]} bytes on rank {rank}, {main_sizes[i]} on rank 0 "
                                         f"({differ.size} of {count(len(files), 'file')} "
                                         f"{agree(differ.size, 'differs', 'differ')} in size): {SAME_CORPUS}")
        return
    main_set = set(main_digests.tolist())
    extra = [i for i, d in enumerate(mine.tolist()) if d not in main_set]
    if extra:
        raise HifiganError(files[extra[0]], f"is listed on rank {rank} but not on rank 0 ({len(extra)} of rank "
                                            f"{rank}'s {count(len(files), 'file')} {agree(len(extra), 'is', 'are')} "
                                            f"not rank 0's, which lists "
                                            f"{len(main_digests)}): {SAME_CORPUS}")
    first = next((i for i, (a, b) in enumerate(zip(mine.tolist(), main_digests.tolist())) if a != b), len(mine))
    if len(mine) < len(main_digests):
        after = f"after {file_key(files[first - 1], root)}" if first else "before its first file"
        raise HifiganError(None, f"rank {rank} lacks {len(main_digests) - len(mine)} of rank 0's "
                                 f"{count(len(main_digests), 'file')} (the first {after}): {SAME_CORPUS}")
    raise HifiganError(files[first], f"is listed at another place on rank {rank} than on rank 0 (file {first + 1} "
                                     f"of {len(files)}): {SAME_CORPUS}")
