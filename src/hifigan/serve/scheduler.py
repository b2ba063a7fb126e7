"""The batcher: one worker thread owns the model and runs the queued mels (whole requests, and streams' windows
with their exact context) in batched forward passes of at most `max_batch`, waiting at most `max_batch_delay_ms`
after the oldest arrived for others to join, and not at all once every client being served has work queued (one
stream alone does not pay the delay on each window). `Vocoder.batch` makes every row equal to that mel vocoded
alone; a batch whose pass fails is vocoded again one mel at a time, so that only a mel that fails alone fails."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field

import torch

from hifigan.inference.vocoder import Vocoder


@dataclass
class Job:
    """Vocode `mel` ([num_mels, W]) and keep the audio of its frames [start, stop) for `owner` (a request or a
    stream), delivered through `future`."""

    mel: torch.Tensor
    start: int
    stop: int
    owner: object
    future: Future = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class BatchDone:
    """What the scheduler reports of one batch: each mel's wait in the queue (seconds from its arrival to the
    batch's start), the batch's own seconds (packing, the model's passes, the copy back to the CPU) and the CPU
    seconds the worker's thread and the split engines' pool workers (which compute a long input's pieces while the
    worker's thread waits for them) spent in them: up to the engine's thread count times the batch's seconds. The
    first two split a request's latency into waiting and computing; at one thread, the batch's seconds less its CPU
    seconds are the worker waiting (for the GPU, a core, or Python's GIL, which the server's event loop holds while it
    handles requests; OpenMP's helper threads of a multi-threaded pass are not counted). `retried`: its pass failed
    and its mels were then vocoded one at a time; its seconds and CPU seconds count the failed pass and the retries."""

    waits: tuple[float, ...]
    seconds: float
    cpu_seconds: float
    retried: bool = False

    @property
    def size(self) -> int:
        """Mels in the batch."""
        return len(self.waits)


class SchedulerFailed(RuntimeError):
    """The batcher's thread stopped on an error that was not the model's answer to one batch (a bug, or a
    BaseException from the model): the mels queued and running then, and every one submitted after, fail with it."""


class Scheduler:
    """Queue of jobs and the thread that batches them. `on_batch` is told of every batch taken from the queue,
    whether its mels were vocoded or failed (a `BatchDone`, before its futures are set); `clients()` says how many
    requests and streams are being served (None: unknown, always wait the delay); `on_failure` is told of the error
    that stopped the thread (then `failure` is set)."""

    def __init__(self, vocoder: Vocoder, max_batch: int, max_batch_delay_ms: float,
                 on_batch: Callable[[BatchDone], None] | None = None,
                 clients: Callable[[], int] | None = None,
                 on_failure: Callable[[BaseException], None] | None = None) -> None:
        self.vocoder, self.max_batch, self.delay = vocoder, max_batch, max_batch_delay_ms / 1000.0
        self.on_batch, self.clients, self.on_failure = on_batch, clients, on_failure
        self.failure: SchedulerFailed | None = None  # why the thread stopped: no mel is vocoded any more
        self._jobs: deque[Job] = deque()
        self._running: list[Job] = []  # the batch being vocoded
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="hifigan-serve-batcher", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def submit(self, mel: torch.Tensor, start: int, stop: int, owner: object) -> Future:
        """Queue a mel; the future gets the audio of frames [start, stop) (or the model's exception). After the
        thread failed: SchedulerFailed."""
        job = Job(mel, start, stop, owner)
        with self._cond:
            if self.failure is not None:
                raise SchedulerFailed(str(self.failure))
            if self._closed:
                raise RuntimeError("the scheduler is closed")
            self._jobs.append(job)
            self._cond.notify()
        return job.future

    def cancel(self, owner: object) -> int:
        """Drop `owner`'s queued jobs (a client that went away); how many were dropped."""
        with self._cond:
            mine = [job for job in self._jobs if job.owner is owner]
            self._jobs = deque(job for job in self._jobs if job.owner is not owner)
        for job in mine:
            job.future.cancel()
        return len(mine)

    @property
    def depth(self) -> int:
        """Jobs waiting for a forward pass."""
        return len(self._jobs)

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _take(self) -> list[Job] | None:
        """The next batch: the oldest job and those that arrive before its delay is up (at most max_batch)."""
        with self._cond:
            while True:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    return None
                deadline = self._jobs[0].queued_at + self.delay
                while (self._jobs and len(self._jobs) < self.max_batch and not self._closed
                       and not self._all_clients_queued()):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    # A lock waits at most TIMEOUT_MAX (about 292 years): a longer delay raised OverflowError here,
                    # which ended this thread and left every request waiting for ever. The loop waits again.
                    self._cond.wait(min(left, threading.TIMEOUT_MAX))
                if self._jobs:  # else: cancelled while waiting (their clients went away)
                    return self._pick()

    def _all_clients_queued(self) -> bool:
        """Whether every request and stream being served has a job queued: no one else can join this pass."""
        return self.clients is not None and len({id(job.owner) for job in self._jobs}) >= self.clients()

    def _pick(self) -> list[Job]:
        """The oldest jobs, at most max_batch: `Vocoder.batch` lays them end to end, so lengths need not match."""
        return [self._jobs.popleft() for _ in range(min(self.max_batch, len(self._jobs)))]

    def _loop(self) -> None:
        try:
            while (batch := self._take()) is not None:
                self._running = [job for job in batch if job.future.set_running_or_notify_cancel()]
                if self._running:
                    self._run(self._running)
                self._running = []
        except BaseException as e:  # whatever stopped the thread: no request may wait for ever
            self._fail(e)

    def _fail(self, error: BaseException) -> None:
        """The thread stops on `error`: fail the batch it held and every queued mel, refuse new ones, and say why."""
        failure = SchedulerFailed(f"the server's batcher stopped on {type(error).__name__}: {error}; it vocodes "
                                  "nothing more until it is restarted")
        with self._cond:
            self.failure, self._closed = failure, True
            jobs = [*self._running, *self._jobs]
            self._jobs.clear()
        try:
            if self.on_failure is not None:
                self.on_failure(error)
        finally:
            for job in jobs:
                try:
                    job.future.set_exception(failure)
                except InvalidStateError:  # answered before the failure, or cancelled (its client went away)
                    pass

    def _cpu_time(self) -> float:
        """CPU seconds of the threads that compute the batches: this worker's and the split engines' pool workers'
        (tiled-split, the CPU's auto, runs a long input's pieces on them while this thread waits)."""
        return time.thread_time() + self.vocoder.worker_cpu_seconds

    def _run(self, jobs: list[Job]) -> None:
        """Vocode `jobs` in one pass; if it fails (out of memory, a mel the model fails on), each job alone, so that
        only a job that fails alone gets the model's exception (that of its own pass) and the others their audio."""
        started, cpu = time.monotonic(), self._cpu_time()
        answers = self._answers(jobs)
        retried = len(jobs) > 1 and isinstance(answers[0], Exception)
        if retried:
            answers = None  # the failed pass's exception, and the tensors its traceback holds, go first
            self._release_cached_memory()
            answers = [answer for job in jobs for answer in self._answers([job])]
        if self.on_batch is not None:
            self.on_batch(BatchDone(tuple(started - job.queued_at for job in jobs), time.monotonic() - started,
                                    self._cpu_time() - cpu, retried))
        for job, answer in zip(jobs, answers):
            if isinstance(answer, Exception):
                job.future.set_exception(answer)
            else:
                job.future.set_result(answer)

    def _answers(self, jobs: list[Job]) -> list[torch.Tensor] | list[Exception]:
        """Each job's audio from one pass, or, for each, the model's exception (the server goes on: only a
        BaseException stops the thread)."""
        try:
            return self.vocoder.batch([job.mel for job in jobs], keep=[(job.start, job.stop) for job in jobs])
        except Exception as e:
            return [e] * len(jobs)

    def _release_cached_memory(self) -> None:
        """Hand the blocks that CUDA's caching allocator kept from the failed pass back to the device before the
        retries (an out-of-memory error leaves them cached, the lone passes need blocks of other sizes)."""
        if self.vocoder.device.type == "cuda":
            with torch.cuda.device(self.vocoder.device):
                torch.cuda.empty_cache()
