"""Each pair's metrics for evaluate_pairs: in this process, or for a test set in the training scan's worker
processes (hifigan.data.scan_pool and its rule: one per CPU), each worker decoding its own pairs' files. A pair is
scored at one thread in every pool (hifigan.runtime.threads.one_thread) wherever it runs, so its values are the same
bits in this process and in a worker, and N workers do not each start N threads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hifigan.config import HifiganConfig
from hifigan.data.scan_pool import WorkerDied, read_files
from hifigan.errors import HifiganError
from hifigan.evaluation.metrics import compute_metrics
from hifigan.evaluation.pairing import Pair, align, match_lengths
from hifigan.evaluation.pitch import PitchSettings
from hifigan.evaluation.provenance import SIDES
from hifigan.evaluation.results import FileResult
from hifigan.messages.plural import count

# Fewer pairs are scored in this process. A pair costs 0.1-0.5 s of CPU per second of audio (all metrics; pYIN is
# most of it), a worker pool about 0.1 s to start: it pays from a few clips (docs/evaluation.md, Cost).
PARALLEL_MIN_PAIRS = 4


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
    """Every pair's FileResult, in the order of `pairs`: in `workers` processes (None: one per CPU from
    PARALLEL_MIN_PAIRS pairs). A pair's error (a file changed since the checks) is raised here as it was raised
    there; a worker that dies is a one-line error naming the generated files it may have held."""
    results: list[FileResult] = [None] * len(pairs)  # type: ignore[list-item]  # every place is filled below
    try:
        for i, result in read_files(pairs, job, score_pair, workers, progress, "evaluate", PARALLEL_MIN_PAIRS):
            results[i] = result
    except WorkerDied as e:
        named = [str(gen) for _, _, gen in e.reading]
        shown = ", ".join(named[:4]) + (f" and {len(named) - 4} more" if len(named) > 4 else "")
        raise HifiganError(None, f"an evaluate worker process died (likely out of memory) scoring one of "
                                 f"{count(len(named), 'pair')}: {shown or 'not known'}; nothing was written") from None
    return results


def score_pair(pair: Pair, job: PairJob) -> FileResult:
    """One pair's metrics at the config's rate (lengths matched, delay removed), at one thread; the reader of
    score_pairs' workers."""
    from hifigan.audio import read_audio
    from hifigan.runtime.threads import one_thread

    stem, ref_path, gen_path = pair
    sr = job.config.sampling_rate
    read = [read_audio(p, sr, resample=job.resample, mix_to_mono=job.mix_to_mono, cli=job.cli)
            for p in (ref_path, gen_path)]
    (ref, *_), (gen, *_) = read
    formats = {side: {"sampling_rate": rate, "channels": channels}  # as stored: what was resampled or mixed down
               for side, (_, rate, channels) in zip(SIDES, read)}
    source = f"{gen_path} (vs {ref_path})"
    trimmed = len(ref) - len(gen)
    ref, gen = match_lengths(ref, gen, job.tolerance, source, job.cli)
    ref, gen, shift = align(ref, gen, job.max_shift)
    with one_thread():
        values = compute_metrics(ref, gen, job.config, job.names, pitch=job.pitch, source=source, cli=job.cli)
    return FileResult(stem, str(ref_path), str(gen_path), len(ref) / sr, shift, values, abs(trimmed),
                      "reference" if trimmed > 0 else "generated" if trimmed < 0 else None, formats)
