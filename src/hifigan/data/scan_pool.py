"""The scan's reading of many files: in this process, or in worker processes whose results are kept as they
arrive, so that a worker that dies (the kernel's out-of-memory killer on a huge file) costs only the files in
flight, and those are named; a parent that stops (Ctrl-C, an error) stops the workers after the file each is on."""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from hifigan.messages.plural import count
from hifigan.messages.progress_bars import shows_bars
from hifigan.runtime.cpus import usable_cpus

PARALLEL_MIN = 256  # fewer files than this are read in this process (starting workers costs more)

Reader = Callable[[Any, Any], Any]  # (name, settings) -> what is kept (the scan: a file's row; evaluate: a pair's)

_current: Any = None  # in a worker: the shared array of the file each worker reads (-1: none)
_slot = -1  # in a worker: its place in _current
_stop: Any = None  # in a worker: the shared flag the parent sets when it stops early (1)


class WorkerDied(Exception):
    """A worker process ended without a result (killed for memory, a crash in a decoder); `reading`: the files the
    workers were reading then (the one that died among them)."""

    def __init__(self, reading: list[Any]) -> None:
        self.reading = reading
        super().__init__(f"a scan worker died while reading one of {count(len(reading), 'file')}")


def read_files(names: Sequence[Any], settings: Any, reader: Reader, workers: int | None, progress: bool | None,
               desc: str = "scan", min_parallel: int = PARALLEL_MIN) -> Iterator[tuple[int, Any]]:
    """(position in `names`, reader(name, settings)) for every name (a path; anything that pickles), in no set order:
    in `workers` processes (default: the CPUs this process may use, usable_cpus) unless there are fewer than
    `min_parallel` names (the work each costs decides where workers pay) or one worker; a progress bar (`desc`) where
    `progress` (True, False; None: on a terminal only, hifigan.messages.progress_bars). A worker that dies
    raises WorkerDied once every result that did arrive has been given."""
    from tqdm import tqdm

    count = workers if workers is not None else usable_cpus()
    parallel = count > 1 and (len(names) >= min_parallel or workers is not None) and len(names) > 1
    bar = tqdm(total=len(names), unit="file", desc=desc, file=sys.stderr, dynamic_ncols=True,
               disable=not shows_bars(progress) or not names)
    try:
        if not parallel:
            for i, name in enumerate(names):
                yield i, reader(name, settings)
                bar.update(1)
        else:
            yield from _pooled(names, settings, reader, count, bar)
    finally:
        bar.close()


def _pooled(names: Sequence[Any], settings: Any, reader: Reader, count: int, bar: Any) -> Iterator[tuple[int, Any]]:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    size = max(1, min(256, len(names) // (8 * count)))
    current = context.Array("q", [-1] * count)
    claimed = context.Value("i", 0)
    stop = context.Value("b", 0)
    broken = False
    with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_claim,
                             initargs=(current, claimed, stop)) as pool:
        chunks = {pool.submit(_read_chunk, reader, settings, start, list(names[start:start + size])): start
                  for start in range(0, len(names), size)}
        try:
            for future in as_completed(chunks):
                if isinstance(future.exception(), BrokenProcessPool):
                    broken = True  # the results of the chunks that did finish are still given
                    continue
                results = future.result()
                for offset, result in enumerate(results):
                    yield chunks[future] + offset, result
                bar.update(len(results))
        except BaseException:  # Ctrl-C, a reader's error, a caller that stops: the workers stop after their file
            stop.value = 1
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if broken:
        raise WorkerDied([names[i] for i in current[:] if i >= 0])


def _claim(current: Any, claimed: Any, stop: Any) -> None:
    """A worker's start: take the next free place in `current`; leave Ctrl-C to the parent, which sets `stop`."""
    global _current, _slot, _stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with claimed.get_lock():
        _slot = claimed.value
        claimed.value += 1
    _current, _stop = current, stop


def _read_chunk(reader: Reader, settings: Any, start: int, names: list[Any]) -> list[Any]:
    """Read consecutive files, saying in the shared array which one is being read (what a death leaves there)."""
    out = []
    for offset, name in enumerate(names):
        if _stop.value:  # the parent has stopped: what is left is not wanted
            break
        _current[_slot] = start + offset
        out.append(reader(name, settings))
    _current[_slot] = -1
    return out
