"""Dynamic batching never changes an answer: whole requests and streams of mixed lengths, arriving at random times,
share forward passes, and each output equals its mel vocoded alone (float64: within 1e-12)."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient
from hifigan.serve.limits import ServeOptions
from tests.support.serve import metric, random_mels, running_server, split
from tests.support.tiny import tiny_config


@pytest.fixture(scope="module")
def served64():
    cfg = tiny_config("1")
    torch.manual_seed(3)
    vocoder = Vocoder(Generator(cfg).double(), cfg, backend="eager")
    with running_server(vocoder, ServeOptions(max_batch=6, max_batch_delay_ms=30)) as running:
        yield running, vocoder


async def _mixed_load(url: str, mels: list[np.ndarray], streamed: list[bool], delays: list[float],
                      sizes: list[list[int]]) -> list[np.ndarray]:
    async with AsyncClient(url) as client:
        async def one(i: int) -> np.ndarray:
            await asyncio.sleep(delays[i])
            if streamed[i]:
                return (await client.stream(split(mels[i], sizes[i]), fmt="f64")).audio
            return await client.vocode(mels[i], fmt="f64")

        return await asyncio.gather(*(one(i) for i in range(len(mels))))


@pytest.mark.parametrize("seed", [0, 1])
def test_each_answer_is_its_mel_alone_whatever_shared_its_batches(served64, seed):
    running, vocoder = served64
    rng = np.random.default_rng(seed)
    count = 14
    lengths = [int(n) for n in rng.integers(1, 90, size=count)]
    mels = random_mels(rng, 16, lengths)
    streamed = [bool(s) for s in rng.random(count) < 0.4]
    delays = [float(d) for d in rng.uniform(0, 0.05, size=count)]
    sizes = [[int(s) for s in rng.integers(1, 15, size=n)] for n in lengths]
    page = httpx.get(f"{running.url}/metrics").text
    passes, mels_run = metric(page, "hifigan_batch_size_count"), metric(page, "hifigan_batch_size_sum")
    outs = asyncio.run(_mixed_load(running.url, mels, streamed, delays, sizes))
    for i, (mel, audio) in enumerate(zip(mels, outs)):
        alone = vocoder(mel.astype(np.float64)).numpy()
        assert audio.dtype == np.float64 and audio.shape == alone.shape, i
        assert np.abs(audio - alone).max() < 1e-12, (i, lengths[i], streamed[i])
    page = httpx.get(f"{running.url}/metrics").text
    passes = metric(page, "hifigan_batch_size_count") - passes
    mels_run = metric(page, "hifigan_batch_size_sum") - mels_run
    assert mels_run >= count and mels_run / passes >= 1.5  # they did share passes: 1.5 mels a pass or more
