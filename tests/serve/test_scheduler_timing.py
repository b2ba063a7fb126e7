"""The scheduler's report of each batch (`BatchDone`): each mel's wait in the queue and the batch's own seconds,
which split a request's latency into waiting and computing (`hifigan_queue_wait_seconds`, `hifigan_batch_seconds`),
and the CPU seconds of the threads that computed the batch, the worker's and a split engine's pool workers'
(`hifigan_batch_cpu_seconds_total`); and how long a job waits for others to join its batch."""

from __future__ import annotations

import time

import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.scheduler import BatchDone, Scheduler
from tests.support.threads import two_threads
from tests.support.tiny import tiny_config

FRAMES = 4000  # the tiny model takes tens of milliseconds on this: far above a thread's hand-over


def _vocoder() -> Vocoder:
    cfg = tiny_config("1")
    torch.manual_seed(0)
    return Vocoder(Generator(cfg), cfg)


def test_waits_and_batch_seconds_split_each_jobs_time():
    """Three jobs queued before the worker starts, at most 2 a batch: batches [1, 2] and [3]. The second batch starts
    when the first has ended, so job 3's wait is job 1's plus the first batch's seconds (and the hand-over between
    batches); no job's wait plus its batch's seconds exceeds the time from its submission to its audio."""
    vocoder = _vocoder()
    mel = torch.randn(vocoder.config.num_mels, FRAMES)
    vocoder.batch([mel, mel])  # set-up outside the timed batches
    reports: list[BatchDone] = []
    scheduler = Scheduler(vocoder, max_batch=2, max_batch_delay_ms=0, on_batch=reports.append)
    submitted, futures = [], []
    for _ in range(3):
        submitted.append(time.monotonic())
        futures.append(scheduler.submit(mel, 0, FRAMES, owner=object()))
    span = time.monotonic() - submitted[0]  # the jobs' arrival times lie within this of each other
    scheduler.start()
    done_at = []
    for future in futures:
        assert future.result(timeout=60).shape == (FRAMES * vocoder.hop_size,)
        done_at.append(time.monotonic())
    scheduler.close()

    assert [r.size for r in reports] == [2, 1]
    first, second = reports
    assert first.seconds > 0 and second.seconds > 0 and min(first.waits + second.waits) >= 0
    for report in reports:  # the computing threads' CPU time lies within their count times the batch's wall time
        assert 0 < report.cpu_seconds <= torch.get_num_threads() * report.seconds + 1e-3
    assert abs(first.waits[0] - first.waits[1]) <= span  # one batch: one start
    between_starts = second.waits[0] - first.waits[0]  # within `span`
    assert first.seconds - span <= between_starts <= first.seconds + span + 0.5 * first.seconds
    for i, (wait, seconds) in enumerate([(w, first.seconds) for w in first.waits] + [(second.waits[0],
                                                                                    second.seconds)]):
        assert wait + seconds <= done_at[i] - submitted[i], i


def test_a_lone_job_waits_the_delay_for_company():
    """With no count of clients the worker holds a lone job `max_batch_delay_ms` for others, and says so."""
    vocoder = _vocoder()
    mel = torch.randn(vocoder.config.num_mels, 20)
    reports: list[BatchDone] = []
    scheduler = Scheduler(vocoder, max_batch=4, max_batch_delay_ms=150, on_batch=reports.append).start()
    submitted = time.monotonic()
    scheduler.submit(mel, 0, 20, owner=object()).result(timeout=60)
    elapsed = time.monotonic() - submitted
    scheduler.close()
    (report,) = reports
    assert report.size == 1 and 0.15 <= report.waits[0] and report.waits[0] + report.seconds <= elapsed


def test_a_full_batch_goes_at_once_and_the_delay_counts_from_the_oldest_job():
    """max_batch jobs in the queue do not wait out the delay; a job that arrives later does not restart the oldest
    one's wait (a steady trickle would hold it for ever)."""
    vocoder = _vocoder()
    mel = torch.randn(vocoder.config.num_mels, 20)
    reports: list[BatchDone] = []
    scheduler = Scheduler(vocoder, max_batch=2, max_batch_delay_ms=3000, on_batch=reports.append).start()
    futures = [scheduler.submit(mel, 0, 20, owner=object()) for _ in range(2)]
    for future in futures:
        future.result(timeout=60)
    scheduler.close()
    (full,) = reports
    assert full.size == 2 and max(full.waits) < 1.0  # far below the 3 s delay

    reports.clear()
    scheduler = Scheduler(vocoder, max_batch=8, max_batch_delay_ms=1000, on_batch=reports.append).start()
    first = scheduler.submit(mel, 0, 20, owner=object())
    time.sleep(0.6)
    second = scheduler.submit(mel, 0, 20, owner=object())
    first.result(timeout=60), second.result(timeout=60)
    scheduler.close()
    (batch,) = reports
    assert batch.size == 2 and 1.0 <= batch.waits[0] < 1.4  # the oldest's 1 s, not 0.6 + 1 s


def test_a_delay_longer_than_a_lock_can_wait_still_batches():
    """A --max-batch-delay-ms beyond threading.TIMEOUT_MAX (292 years) once raised OverflowError in the worker's wait:
    its thread died and every request hung. A job waiting for a second client goes once that client's job comes."""
    vocoder = _vocoder()
    mel = torch.randn(vocoder.config.num_mels, 20)
    scheduler = Scheduler(vocoder, max_batch=4, max_batch_delay_ms=1e13, clients=lambda: 2).start()
    first = scheduler.submit(mel, 0, 20, owner=object())
    time.sleep(0.05)  # the worker is waiting for company
    second = scheduler.submit(mel, 0, 20, owner=object())
    assert first.result(timeout=10).shape == second.result(timeout=10).shape == (20 * vocoder.hop_size,)
    scheduler.close()


def test_batch_cpu_seconds_count_the_split_workers_that_compute_a_long_input():
    """At two threads `auto` (tiled-split) cuts a long input into pieces that single-threaded pool workers compute
    while the scheduler's thread waits: their CPU time is the batch's, not a wait for the GPU, a core or the GIL
    (counting only the scheduler's thread reported ~3% of the batch's time as CPU)."""
    with two_threads():
        vocoder = _vocoder()
    assert vocoder.backend == "tiled-split"
    mel = torch.randn(vocoder.config.num_mels, FRAMES)
    vocoder(mel)  # set-up outside the timed batch
    reports: list[BatchDone] = []
    scheduler = Scheduler(vocoder, max_batch=1, max_batch_delay_ms=0, on_batch=reports.append).start()
    for _ in range(2):
        scheduler.submit(mel, 0, FRAMES, owner=object()).result(timeout=60)
    scheduler.close()
    for report in reports:
        assert 0.2 * report.seconds <= report.cpu_seconds <= 2 * report.seconds + 1e-3, report
