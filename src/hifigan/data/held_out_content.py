"""A run's held-out files known by their identity as well as their names: a checkpoint stores each one's inode,
size and SHA-256, so that a held-out file renamed since (or moved within the corpus) is found under its new name on
resume and stays held out, rather than train as a new file while the run says its old name is gone. A rename keeps
the inode; a copy does not: a duplicate of a held-out file that the run trained on is never taken for it."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from hifigan.data.clip_names import file_key
from hifigan.data.corpus import Corpus
from hifigan.data.segments import Segment
from hifigan.messages import plural

CHUNK = 1 << 20


def content_digest(path: Path) -> str:
    """`<size>:<sha256 hex>` of a file's bytes."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return f"{size}:{digest.hexdigest()}"


def identity(path: Path) -> str:
    """`<inode>:<size>:<sha256 hex>`: what a rename keeps, and a copy (another inode) or an edit (other bytes) not."""
    return f"{path.stat().st_ino}:{content_digest(path)}"


def held_out_content(files: Sequence[Path], keys: Sequence[str]) -> dict[str, str]:
    """Each held-out file's identity by its key (clip_names.file_key); one that cannot be read is left out, and so is a
    segment, whose key (its utterance id) no renamed recording changes."""
    contents = {}
    for path, key in zip(files, keys):
        if isinstance(path, Segment):
            continue
        try:
            contents[key] = identity(path)
        except OSError:
            continue
    return contents


def follow_renames(keys: Sequence[str], contents: Mapping[str, str], corpus: Corpus) -> list[str]:
    """The run's held-out `keys`, each one no longer in the corpus replaced by the key of the same file under another
    name (its identity: `contents`, held_out_content as the checkpoint stores it); said in one warning. Only a file
    with a missing one's inode is read."""
    root = corpus.root()
    missing = {k: contents[k] for k in keys if k in contents and not os.path.isfile(root / k)}  # False: not stat'ed
    if not missing:
        return list(keys)
    inodes = {int(stored.split(":", 1)[0]) for stored in missing.values()}
    kept, found = set(keys), {}
    for path in corpus.listed():
        key = file_key(path, root)
        try:
            if key in kept or isinstance(path, Segment) or path.stat().st_ino not in inodes:
                continue
            digest = identity(path)
        except OSError:
            continue
        for old, stored in missing.items():
            if stored == digest and old not in found:
                found[old] = key
                break
    if found:
        shown = ", ".join(f"{old} is now {new}" for old, new in list(found.items())[:5])
        shown += f" and {len(found) - 5} more" if len(found) > 5 else ""
        warnings.warn(f"{len(found)} of the run's {plural.count(len(keys), 'held-out file')} "
                      f"{plural.agree(len(found), 'was', 'were')} renamed since ({shown}: the same content): "
                      f"{plural.agree(len(found), 'it stays', 'they stay')} held out, not trained on", stacklevel=2)
    return [found.get(k, k) for k in keys]
