"""Dynamic batching never changes an answer: whole requests and streams of mixed lengths, arriving at random times,
share forward passes, and each output equals its mel vocoded alone (float64: within 1e-12; float32 on the
`invariant` backend: bit for bit), with shape buckets off and on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient
from hifigan.serve.limits import ServeOptions
from tests.support.serve import Running, metric, random_mels, running_server, split
from tests.support.tiny import tiny_config


@contextmanager
def _tiny_server(seed: int, backend: str, double: bool = False, buckets: bool = False,
                 **options) -> Iterator[tuple[Running, Vocoder]]:
    """The tiny model (seeded random weights; float64 when `double`) served on `backend` with `options`."""
    cfg = tiny_config("1")
    torch.manual_seed(seed)
    generator = Generator(cfg)
    vocoder = Vocoder(generator.double() if double else generator, cfg, backend=backend, shape_buckets=buckets)
    with running_server(vocoder, ServeOptions(**options)) as running:
        yield running, vocoder


@pytest.fixture(scope="module")
def served64():
    with _tiny_server(3, "eager", double=True, max_batch=6, max_batch_delay_ms=30) as served:
        yield served


@pytest.fixture(scope="module")
def served32():
    with _tiny_server(3, "invariant", max_batch=6, max_batch_delay_ms=30) as served:
        yield served


@pytest.fixture(scope="module")
def bucketed32():
    with _tiny_server(3, "invariant", buckets=True, max_batch=6, max_batch_delay_ms=30) as served:
        yield served


async def _mixed_load(url: str, mels: list[np.ndarray], streamed: list[bool], delays: list[float],
                      sizes: list[list[int]], fmt: str) -> list[np.ndarray]:
    async with AsyncClient(url) as client:
        async def one(i: int) -> np.ndarray:
            await asyncio.sleep(delays[i])
            if streamed[i]:
                return (await client.stream(split(mels[i], sizes[i]), fmt=fmt)).audio
            return await client.vocode(mels[i], fmt=fmt)

        return await asyncio.gather(*(one(i) for i in range(len(mels))))


@pytest.mark.parametrize("seed", [0, 1])
def test_each_answer_is_its_mel_alone_whatever_shared_its_batches(served64, seed):
    _assert_alone_under_mixed_load(*served64, seed, "f64")


@pytest.mark.parametrize("seed", [2, 3])
def test_float32_answers_of_the_invariant_backend_are_their_mel_alone_bit_for_bit(served32, seed):
    assert httpx.get(f"{served32[0].url}/v1/info").json()["batch_invariant"] is True
    _assert_alone_under_mixed_load(*served32, seed, "f32")


def test_with_shape_buckets_the_invariant_backend_still_answers_each_mel_alone_bit_for_bit(bucketed32, served32):
    """Padded passes of a few shapes (`hifigan serve --shape-buckets on`) change no float32 sample."""
    assert httpx.get(f"{bucketed32[0].url}/v1/info").json()["shape_buckets"] is True
    assert httpx.get(f"{served32[0].url}/v1/info").json()["shape_buckets"] is False
    _assert_alone_under_mixed_load(bucketed32[0], served32[1], 4, "f32")  # alone: without buckets


def _assert_alone_under_mixed_load(running, vocoder: Vocoder, seed: int, fmt: str) -> None:
    rng = np.random.default_rng(seed)
    count = 14
    lengths = [int(n) for n in rng.integers(1, 90, size=count)]
    mels = random_mels(rng, 16, lengths)
    streamed = [bool(s) for s in rng.random(count) < 0.4]
    delays = [float(d) for d in rng.uniform(0, 0.05, size=count)]
    sizes = [[int(s) for s in rng.integers(1, 15, size=n)] for n in lengths]
    page = httpx.get(f"{running.url}/metrics").text
    passes, mels_run = metric(page, "hifigan_batch_size_count"), metric(page, "hifigan_batch_size_sum")
    timed, waited = metric(page, "hifigan_batch_seconds_count"), metric(page, "hifigan_queue_wait_seconds_count")
    busy, cpu = metric(page, "hifigan_batch_seconds_sum"), metric(page, "hifigan_batch_cpu_seconds_total")
    wall = time.monotonic()
    outs = asyncio.run(_mixed_load(running.url, mels, streamed, delays, sizes, fmt))
    wall = time.monotonic() - wall
    for i, (mel, audio) in enumerate(zip(mels, outs)):
        alone = vocoder(mel).numpy()
        assert audio.dtype == alone.dtype and audio.shape == alone.shape, i
        if fmt == "f64":
            assert np.abs(audio - alone).max() < 1e-12, (i, lengths[i], streamed[i])
        else:
            assert np.array_equal(audio, alone), (i, lengths[i], streamed[i])
    page = httpx.get(f"{running.url}/metrics").text
    passes = metric(page, "hifigan_batch_size_count") - passes
    mels_run = metric(page, "hifigan_batch_size_sum") - mels_run
    assert mels_run >= count and mels_run / passes >= 1.5  # they did share passes: 1.5 mels a pass or more
    # Every batch is timed once and every mel's wait once; one worker runs the batches, so their seconds fit the wall.
    assert metric(page, "hifigan_batch_seconds_count") - timed == passes
    assert metric(page, "hifigan_queue_wait_seconds_count") - waited == mels_run
    busy = metric(page, "hifigan_batch_seconds_sum") - busy
    assert 0 < busy < wall and 0 < metric(page, "hifigan_batch_cpu_seconds_total") - cpu <= busy + passes * 1e-3


@pytest.fixture(scope="module")
def patient():
    """A server that would hold a pass 3 s for company (float32, the tiny model)."""
    with _tiny_server(4, "eager", max_batch=8, max_batch_delay_ms=3000) as (running, _):
        yield running


def test_a_lone_client_does_not_wait_for_company(patient):
    """With one request or one stream being served, no one else can join its pass: it starts at once instead of
    after --max-batch-delay-ms (a stream would pay the delay on every window: 3 s x 6 here)."""
    mel = random_mels(np.random.default_rng(0), 16, [30])[0]

    async def go() -> float:
        async with AsyncClient(patient.url) as client:
            started = asyncio.get_running_loop().time()
            await client.vocode(mel)
            await client.stream(split(mel, [5] * 6))
            return asyncio.get_running_loop().time() - started

    assert asyncio.run(go()) < 2.5


async def _late(piece: np.ndarray, after_s: float):
    await asyncio.sleep(after_s)
    yield piece


def test_a_request_waits_for_a_stream_being_served(patient):
    """A request that arrives while a stream is open waits (up to the delay) for the stream's next window, and the
    two share one pass; a request alone would go at once (above)."""
    mels = random_mels(np.random.default_rng(1), 16, [20, 25])

    async def go() -> None:
        async with AsyncClient(patient.url) as client:
            async def request() -> None:
                await asyncio.sleep(0.1)  # the stream is open by now: two clients are being served
                await client.vocode(mels[1])

            await asyncio.gather(client.stream(_late(mels[0], 0.4)), request())

    before = httpx.get(f"{patient.url}/metrics").text
    asyncio.run(go())
    after = httpx.get(f"{patient.url}/metrics").text
    def passes(at_most: int) -> float:
        name = f'hifigan_batch_size_bucket{{le="{at_most:.1f}"}}'
        return metric(after, name) - metric(before, name)

    assert passes(2) - passes(1) >= 1, (passes(2), passes(1))  # a pass of two: the request and the stream's window
