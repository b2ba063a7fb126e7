"""What the up-front scan learns about each file (a row of hifigan.data.scan_row: header, length at the model rate,
peak, share of clipped frames, or why it cannot be read), one row per file; read in parallel processes the first time
and cached by path, size, mtime and ctime, so a resume or a second run reads only the files that changed. The cache is
written as soon as the files are read (whatever the checks after that decide), and on Ctrl-C or a dead worker with
the rows read by then; a row read under other options (resample, mix_to_mono) is reused where they did not change it."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hifigan.data.scan_pool import Reader, WorkerDied, read_files
from hifigan.data.scan_row import EMPTY, MIXED, RESAMPLED, ROW, ReadSettings, read_one
from hifigan.data.segments import Segment, recording_of
from hifigan.errors import HifiganError
from hifigan.files.atomic import atomic_path
from hifigan.files.output_folders import prepare_output_dir
from hifigan.files.paths import below, prefix_rule_holds
from hifigan.messages.plural import agree, count

# 2: the clipped share replaced version 1's share of samples at full scale; 3: the ctime; 4: the options a row was
# read under (read_as) replaced the cache-wide resample and mix_to_mono
CACHE_VERSION = 4


@dataclass
class FileFacts:
    """One row per file, in the order of the files asked for; `problems`: why unreadable files could not be read
    (by row); `read`: how many files this process read (the others came from the cache or another rank);
    `changed`: the cache no longer matches these files."""

    rows: np.ndarray
    problems: dict[int, str] = field(default_factory=dict)
    read: int = 0
    changed: bool = False

    def take(self, indices: Sequence[int]) -> FileFacts:
        """The rows at `indices`, in that order, renumbered from 0."""
        problems = {new: self.problems[old] for new, old in enumerate(indices) if old in self.problems}
        return FileFacts(self.rows[list(indices)], problems, 0)


def gather_facts(files: Sequence[Path], settings: ReadSettings, cache: Path | None = None,
                 workers: int | None = None, progress: bool | None = None, save: bool = True,
                 reader: Reader = read_one, desc: str = "scan", root: Path | None = None) -> FileFacts:
    """The facts of every file: cached rows whose path, size, mtime and ctime still match and that `settings` would
    read the same (_fits), the others read by `reader` (in `workers` processes, default the CPU count, with a progress
    bar `desc` on a terminal, or as `progress` says); with `save`, the cache is rewritten when it changed (else
    save_facts does it). A worker that dies is an error naming the files in flight, and Ctrl-C stops the scan: either
    way the rows read until then are saved to the cache (whatever `save`; the others keyed -1, never reused), so that
    a rerun reads only the rest."""
    names = cache_names(files, root)
    targets = [f if isinstance(f, Segment) else os.path.abspath(f) for f in files]  # what read_one reads
    rows = np.zeros(len(names), dtype=ROW)
    problems: dict[int, str] = {}
    known = _load(cache, settings, root) if cache is not None else None
    todo = []
    index, stored, stored_problems = known if known is not None else ({}, rows, {})
    for i, name in enumerate(names):
        j = index.get(name)
        fresh = j is not None and stored[j]["mtime_ns"] != -1 and _fits(stored[j], settings)
        if fresh and _same_key(recording_of(targets[i]), stored[j]):
            rows[i] = stored[j]
            rows[i]["read_as"] = settings.bits  # what it reads as now (_fits: the options that differ change nothing)
            if j in stored_problems:
                problems[i] = stored_problems[j]
        else:
            todo.append(i)
    pending = set(todo)
    try:
        for k, (row, problem) in read_files([targets[i] for i in todo], settings, reader, workers, progress, desc):
            i = todo[k]
            rows[i] = row
            pending.discard(i)
            if problem is not None:
                problems[i] = problem
    except WorkerDied as e:
        raise _worker_died(e, names, settings, cache, rows, problems, pending) from None
    except KeyboardInterrupt:  # the rows read are as good as a whole scan's: kept, the others marked unread
        _keep_partial(cache, settings, names, rows, problems, pending)
        raise
    facts = FileFacts(rows, problems, len(todo), bool(todo) or len(index) != len(names))
    if cache is not None and save:
        save_facts(cache, settings, names, facts)
    return facts


def cache_names(files: Sequence[Path], root: Path | None = None) -> list[str]:
    """Each file's name in the cache: its path relative to the corpus `root` (a corpus moved or mounted elsewhere is
    not read again: the size, mtime and ctime tell another file under that name), its absolute path outside it (or
    without a root); a segment's, its recording's with its times (the facts depend on the span, not the utterance
    id)."""
    base = None if root is None else os.path.abspath(root)  # once, not per file
    return [f"{_name(f.recording, base)}#{f.start!r}-{f.end!r}" if isinstance(f, Segment) else _name(f, base)
            for f in files]


def _name(path: Path | str, base: str | None) -> str:
    """cache_names' name of one file, `base` the root's absolute path."""
    full = os.path.abspath(path)
    if base is None:
        return full
    if prefix_rule_holds(full, base):
        inside = below(full, base)
        return full if inside is None else inside
    inside = os.path.relpath(full, base)
    return full if inside == os.pardir or inside.startswith(os.pardir + os.sep) else inside


def _fits(row: np.void, settings: ReadSettings) -> bool:
    """Whether `row`, read under the options in its read_as, is what `settings` would read: each option changes
    only the files it applies to (resample: a rate other than the model's, whose samples and peak are the resampled
    audio's, or which is a FORMAT row without it; mix_to_mono: more than one channel, likewise), so a row of a file
    that needs neither is reused under any, as is an empty file's or one with no header (channels 0), decided
    before any option applies."""
    if row["status"] == EMPTY or row["channels"] == 0:
        return True
    bits = int(row["read_as"]) ^ settings.bits  # the options that differ
    return not ((bits & RESAMPLED and row["rate"] != settings.sampling_rate) or (bits & MIXED and row["channels"] != 1))


def _same_key(name: str, row: np.void) -> bool:
    try:
        stat = os.stat(name)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns) == (row["size"], row["mtime_ns"], row["ctime_ns"])


def _worker_died(died: WorkerDied, names: Sequence[str], settings: ReadSettings, cache: Path | None,
                 rows: np.ndarray, problems: dict[int, str], pending: set[int]) -> HifiganError:
    """The one-line error for a dead scan worker, once the rows read are in the cache (the others keyed -1)."""
    _keep_partial(cache, settings, names, rows, problems, pending)
    shown = ", ".join(died.reading[:4]) + (f" and {len(died.reading) - 4} more" if len(died.reading) > 4 else "")
    one_of = "one of " if len(died.reading) > 1 else ""  # every worker's file: the one that died is among them
    where = f"while reading {one_of}{shown}" if died.reading else "(the file it was reading is not known)"
    kept = ""
    if cache is not None:
        read = len(rows) - len(pending)
        kept = (f"; the {count(read, 'file')} read {agree(read, 'is', 'are')} kept in {cache}: a rerun goes on from "
                "there")
    return HifiganError(None, f"a scan worker process died (likely out of memory) {where}{kept}")


def _keep_partial(cache: Path | None, settings: ReadSettings, names: Sequence[str], rows: np.ndarray,
                  problems: dict[int, str], pending: set[int]) -> None:
    """Save a scan stopped early: the rows of the files not read (`pending`) keyed -1, which no scan reuses."""
    for i in pending:
        rows[i]["size"] = rows[i]["mtime_ns"] = rows[i]["ctime_ns"] = -1
    if cache is not None:
        save_facts(cache, settings, names, FileFacts(rows, problems, changed=True))


def _load(cache: Path, settings: ReadSettings, root: Path | None
          ) -> tuple[dict[str, int], np.ndarray, dict[int, str]] | None:
    """(name -> row number, the rows, row number -> problem) of a cache written with the same settings (its absolute
    names under `root` as cache_names gives them now); None when there is none that fits."""
    try:
        with np.load(cache) as stored:
            header = json.loads(bytes(stored["header"]).decode())
            if header != _header(settings):
                return None
            paths = bytes(stored["paths"])
            names = [os.fsdecode(name) for name in paths.split(b"\0")] if paths else []
            rows = stored["rows"]
            problems = {int(k): v for k, v in json.loads(bytes(stored["problems"]).decode()).items()}
    except (FileNotFoundError, NotADirectoryError):  # none yet
        return None
    except Exception as e:  # damaged (empty, truncated, a bad CRC...): read everything again
        detail = str(e).splitlines()[0] if str(e) else "no detail"
        warnings.warn(f"the scan cache {cache} is unreadable ({type(e).__name__}: {detail}); every file is read "
                      "again and the cache rebuilt", RuntimeWarning, stacklevel=3)
        return None
    if len(names) != len(rows) or rows.dtype != ROW:
        return None
    if root is not None:  # a cache written before names were relative (absolute ones): the same files, not read again
        base = os.path.abspath(root)
        names = [_name(n, base) if os.path.isabs(n) else n for n in names]
    return {name: i for i, name in enumerate(names)}, rows, problems


def save_facts(cache: Path, settings: ReadSettings, names: Sequence[str], facts: FileFacts) -> None:
    """Write the facts of the files `names` (cache_names) to the cache file (atomically) when they differ from it; a
    failure is a notice."""
    if not facts.changed:
        return
    blob = lambda text: np.frombuffer(text.encode(), dtype=np.uint8)  # noqa: E731
    try:
        prepare_output_dir(cache.parent)
        with atomic_path(cache) as tmp, open(tmp, "wb") as out:
            # each name's own bytes (os.fsencode): a name that is not UTF-8 comes back as Python read it
            paths = np.frombuffer(b"\0".join(map(os.fsencode, names)), np.uint8)
            np.savez(out, header=blob(json.dumps(_header(settings))), paths=paths, rows=facts.rows,
                     problems=blob(json.dumps({str(k): v for k, v in facts.problems.items()})))
    except (OSError, HifiganError) as e:  # the cache only saves time: a run goes on without it
        warnings.warn(f"cannot write the scan cache {cache} ({e}); the next run reads every file again", RuntimeWarning,
                      stacklevel=2)


def _header(settings: ReadSettings) -> dict:
    """What every row of a cache depends on: the layout, and the model rate (the length of any file read at another
    rate, or refused at it; resample and mix_to_mono are per row: _fits)."""
    return {"version": CACHE_VERSION, "sampling_rate": settings.sampling_rate}
