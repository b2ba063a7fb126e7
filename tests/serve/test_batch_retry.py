"""A batch whose pass fails is vocoded again one mel at a time: only a mel that fails alone gets the error (a request
500, a stream 4500), the others their audio as if alone, and the server goes on (before, every mel of the batch got
the error). The model here runs on a "device" with room for BUDGET frames a pass: a bigger pass raises
torch.OutOfMemoryError, as a large batch on a GPU does, while the same mels fit one at a time."""

from __future__ import annotations

import asyncio
import warnings

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.serve.client import AsyncClient, ServeError
from hifigan.serve.limits import ServeOptions
from hifigan.serve.scheduler import BatchDone, Scheduler
from tests.support.istft_generator import IstftGenerator
from tests.support.serve import metric, random_mels, running_server, silent_stream
from tests.support.tiny import tiny_config

BUDGET = 200  # frames a pass may hold, rows times frames
TOO_BIG = 230  # a mel that does not fit even alone
OOM = f"vocoding failed: OutOfMemoryError: a pass of {TOO_BIG} frames, room for {BUDGET}"


class Budgeted(IstftGenerator):
    """A generator whose device has room for BUDGET frames a pass: a bigger pass raises out of memory, computing
    nothing (as CUDA's allocator does when the card is full)."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = mel.shape[0] * mel.shape[-1]
        if frames > BUDGET:
            raise torch.OutOfMemoryError(f"a pass of {frames} frames, room for {BUDGET}")
        return super().forward(mel)


@pytest.fixture(scope="module")
def budgeted() -> Vocoder:
    """The model in float64, so that a retried mel is compared with it alone to the last bit."""
    cfg = tiny_config()
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no layer description: the module runs eagerly
        return Vocoder(Budgeted(cfg).double(), cfg)


def test_a_failed_batch_is_retried_one_mel_at_a_time(budgeted):
    """Four mels queued before the worker starts make one batch of 320 frames, which fails; alone, three fit (one of
    them a stream's window, kept frames [10, 40)) and get exactly their lone audio, and the fourth gets the error of
    its own pass. One report of the batch, retried; the worker goes on."""
    lengths, keep = [40, 50, TOO_BIG, 60], [(0, 40), (0, 50), (0, TOO_BIG), (10, 40)]
    mels = [torch.from_numpy(m).double() for m in random_mels(np.random.default_rng(0), 16, lengths)]
    reports: list[BatchDone] = []
    told: list[BaseException] = []
    scheduler = Scheduler(budgeted, max_batch=4, max_batch_delay_ms=0, on_batch=reports.append,
                          on_failure=told.append)
    futures = [scheduler.submit(mel, a, b, owner=object()) for mel, (a, b) in zip(mels, keep)]
    scheduler.start()
    hop = budgeted.hop_size
    for i in (0, 1, 3):
        a, b = keep[i]
        assert torch.equal(futures[i].result(10), budgeted(mels[i])[a * hop : b * hop]), i
    with pytest.raises(torch.OutOfMemoryError, match=f"^a pass of {TOO_BIG} frames, room for {BUDGET}$"):
        futures[2].result(10)
    (report,) = reports
    assert report.size == 4 and report.retried and report.seconds > 0 and told == []

    small = mels[0][:, :20]  # two mels that fit one pass together: no retry
    pair = [scheduler.submit(small, 0, 20, owner=object()) for _ in range(2)]
    assert all(torch.equal(f.result(10), budgeted(small)) for f in pair)
    scheduler.close()
    assert [(r.size, r.retried) for r in reports] == [(4, True), (2, False)]


def test_only_the_request_and_the_stream_that_fail_alone_get_the_error(budgeted):
    """A request and a stream that fit alone, and a request and a stream that do not, share one batch (--max-batch 4;
    a silent stream keeps it from leaving before all four are queued): the first two get their audio as if alone,
    the others 500 and 4500 with the model's error, and /metrics counts one retried batch of 4."""
    ok, ok_streamed, big, big_streamed = random_mels(np.random.default_rng(1), 16, [40, 60, TOO_BIG, TOO_BIG])
    options = ServeOptions(max_batch=4, max_batch_delay_ms=1000)

    async def go(url: str) -> tuple:
        async with AsyncClient(url, ready_timeout=0) as client:
            async def streamed(mel: np.ndarray) -> np.ndarray:
                return (await client.stream([mel], fmt="f64")).audio

            return await asyncio.gather(client.vocode(ok, fmt="f64"), streamed(ok_streamed),
                                        client.vocode(big, fmt="f64"), streamed(big_streamed),
                                        return_exceptions=True)

    async def held(running) -> tuple:
        async with silent_stream(running):
            return await go(running.url)

    with running_server(budgeted, options) as running:
        whole, stream, refused, closed = asyncio.run(held(running))
        page = httpx.get(f"{running.url}/metrics").text
    assert np.array_equal(whole, budgeted(ok).numpy())
    assert np.abs(stream - budgeted(ok_streamed).numpy()).max() < 1e-12  # a stream's windows: float64's exactness
    assert isinstance(refused, ServeError) and (refused.status, refused.message) == (500, OOM)
    # the stream's first window held all its frames: those ready, and the look-ahead of the last of them
    assert isinstance(closed, ServeError) and (closed.status, closed.message) == (500, OOM)
    # one batch of 4, retried; every other (the first stream's last window) alone
    batches = metric(page, "hifigan_batch_size_count")
    assert metric(page, 'hifigan_batch_size_bucket{le="1.0"}') == batches - 1
    assert metric(page, "hifigan_batch_size_sum") == batches + 3
    assert metric(page, "hifigan_batches_retried_total") == 1
    assert metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="500"}') == 1
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="500"}') == 1
