"""The pairs of evaluate_pairs, one recording at a time: every system's generated file of a recording is scored
with the recording decoded once and its pitch track computed once per cut (pitch.ReferenceTracks). In this process,
or for a test set in the training scan's worker processes (hifigan.data.scan_pool and its rule: one per CPU), each
worker decoding its own recordings' files. A pair is scored at one thread in every pool
(hifigan.runtime.threads.one_thread) wherever it runs, so its values are the same bits in this process and in a
worker, and N workers do not each start N threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.data.scan_pool import WorkerDied, read_files
from hifigan.errors import HifiganError
from hifigan.evaluation.metrics import compute_metrics
from hifigan.evaluation.pairing import Pair, align, match_lengths
from hifigan.evaluation.pitch import PitchSettings, ReferenceTracks
from hifigan.evaluation.provenance import SIDES
from hifigan.evaluation.results import FileResult
from hifigan.messages.plural import count

# Fewer pairs are scored in this process. A pair costs 0.1-0.5 s of CPU per second of audio (all metrics; pYIN is
# most of it), a worker pool about 0.1 s to start: it pays from a few clips (docs/evaluation.md, Cost).
PARALLEL_MIN_PAIRS = 4

# A recording as read_audio gives it: its samples at the config's rate, and its rate and channels as stored.
Decoded = tuple[np.ndarray, int, int]
# One recording, the pairs scored against it ((system, place in that system's pairs, the pair) each), and its samples
# where the caller read them already (None: read here).
Recording = tuple[Path, tuple[tuple[int, int, Pair], ...], Decoded | None]


@dataclass(frozen=True)
class PairJob:
    """What scoring a pair needs besides its files: the config, the metric names, how audio is read, the length
    tolerance (samples), the largest delay removed, the pitch settings, and whether the command line asked (`cli`:
    its messages name options, hifigan.messages.option_names)."""

    config: HifiganConfig
    names: tuple[str, ...]
    resample: bool
    mix_to_mono: bool
    tolerance: int
    max_shift: int
    pitch: PitchSettings
    cli: bool


def score_pairs(pairs: Sequence[Pair], job: PairJob, progress: bool | None,
                workers: int | None = None) -> list[FileResult]:
    """Every pair's FileResult, in the order of `pairs` (score_systems of one system)."""
    return score_systems([pairs], job, progress, workers)[0]


def score_systems(systems: Sequence[Sequence[Pair]], job: PairJob, progress: bool | None,
                  workers: int | None = None, references: Mapping[Path, Decoded] | None = None
                  ) -> list[list[FileResult]]:
    """Each system's FileResults, in the order of its pairs. The pairs of one recording are scored together (it is
    decoded once, its pitch track computed once per cut; not at all where `references` holds it), in `workers`
    processes (None: one per CPU from PARALLEL_MIN_PAIRS pairs). A pair's error (a file changed since the checks) is
    raised here as it was raised there; a worker that dies is a one-line error naming the generated files it may
    have held."""
    recordings = by_recording(systems, references)
    results: list[list[FileResult]] = [[None] * len(pairs) for pairs in systems]  # type: ignore[list-item]
    pairs = sum(map(len, systems))
    try:
        # the pool's rule counts pairs, the work; its items are recordings
        for _, scored in read_files(recordings, job, score_recording, workers, progress, "evaluate",
                                    1 if pairs >= PARALLEL_MIN_PAIRS else len(recordings) + 1):
            for system, place, result in scored:
                results[system][place] = result
    except WorkerDied as e:
        named = [str(gen) for _, scored, _ in e.reading for _, _, (_, _, gen) in scored]
        shown = ", ".join(named[:4]) + (f" and {len(named) - 4} more" if len(named) > 4 else "")
        raise HifiganError(None, f"an evaluate worker process died (likely out of memory) scoring one of "
                                 f"{count(len(named), 'pair')}: {shown or 'not known'}; nothing was written") from None
    return results


def by_recording(systems: Sequence[Sequence[Pair]], references: Mapping[Path, Decoded] | None = None
                 ) -> list[Recording]:
    """The pairs of every system grouped by their recording, in the order the recordings first appear, each with its
    samples where `references` holds them."""
    grouped: dict[Path, list[tuple[int, int, Pair]]] = {}
    for system, pairs in enumerate(systems):
        for place, pair in enumerate(pairs):
            grouped.setdefault(Path(pair[1]), []).append((system, place, pair))
    held = references or {}
    return [(recording, tuple(pairs), held.get(recording)) for recording, pairs in grouped.items()]


def score_recording(recording: Recording, job: PairJob) -> list[tuple[int, int, FileResult]]:
    """(system, place, FileResult) of every pair of one recording, scored at one thread against the recording
    decoded once (here, unless the caller read it); the reader of score_systems' workers."""
    from hifigan.audio import read_audio
    from hifigan.runtime.threads import one_thread

    path, pairs, decoded = recording
    sr = job.config.sampling_rate
    if decoded is None:
        decoded = read_audio(path, sr, resample=job.resample, mix_to_mono=job.mix_to_mono, cli=job.cli)
    reference, ref_rate, ref_channels = decoded
    tracks = ReferenceTracks()
    scored = []
    for system, place, (stem, ref_path, gen_path) in pairs:
        gen, rate, channels = read_audio(gen_path, sr, resample=job.resample, mix_to_mono=job.mix_to_mono,
                                         cli=job.cli)
        formats = {side: {"sampling_rate": r, "channels": c}  # as stored: what was resampled or mixed down
                   for side, r, c in zip(SIDES, (ref_rate, rate), (ref_channels, channels))}
        source = f"{gen_path} (vs {ref_path})"
        trimmed = len(reference) - len(gen)
        ref, gen = match_lengths(reference, gen, job.tolerance, source, job.cli)
        ref, gen, shift = align(ref, gen, job.max_shift)
        with one_thread():
            values = compute_metrics(ref, gen, job.config, job.names, pitch=job.pitch, source=source, cli=job.cli,
                                     reference_tracks=tracks)
        result = FileResult(stem, str(ref_path), str(gen_path), len(ref) / sr, shift, values, abs(trimmed),
                            "reference" if trimmed > 0 else "generated" if trimmed < 0 else None, formats)
        scored.append((system, place, result))
    return scored
