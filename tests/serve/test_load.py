"""A bounded load test: 16 concurrent clients, whole requests and streams with random message sizes, each client
several in a row; every answer is its own audio, none lost, none duplicated: int16-equal to what `hifigan vocode`
writes but for float32 rounding (tests/support/serve.py: assert_same_int16)."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np

from hifigan.audio import to_int16
from hifigan.inference.vocoder import Vocoder
from hifigan.serve.client import AsyncClient
from hifigan.serve.limits import ServeOptions
from tests.support.serve import assert_same_int16, metric, random_mels, running_server, split

CLIENTS, ROUNDS = 16, 3


def test_sixteen_clients_get_all_their_audio_and_only_theirs(tiny_checkpoint):
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 150, size=(CLIENTS, ROUNDS))
    mels = [random_mels(rng, 16, [int(n) for n in row]) for row in lengths]
    sizes = [[[int(s) for s in rng.integers(1, 25, size=int(n))] for n in row] for row in lengths]
    expected = [[to_int16(vocoder(m).numpy()) for m in row] for row in mels]  # what `hifigan vocode` writes

    with running_server(vocoder, ServeOptions(max_batch=16, max_batch_delay_ms=5)) as running:
        async def client_(i: int, client: AsyncClient) -> list[np.ndarray]:
            out = []
            for r in range(ROUNDS):
                if (i + r) % 2:
                    out.append((await client.stream(split(mels[i][r], sizes[i][r]))).audio)
                else:
                    out.append(await client.vocode(mels[i][r]))
            return out

        async def go():
            async with AsyncClient(running.url) as client:
                return await asyncio.gather(*(client_(i, client) for i in range(CLIENTS)))

        got = asyncio.run(go())
        page = httpx.get(f"{running.url}/metrics").text
    for i in range(CLIENTS):
        for r in range(ROUNDS):
            assert_same_int16(got[i][r], expected[i][r], (i, r))
    total_seconds = lengths.sum() * 16 / 8000
    assert abs(metric(page, "hifigan_audio_seconds_total") - total_seconds) < 1e-6  # each sample sent once
    assert metric(page, "hifigan_batch_size_sum") / metric(page, "hifigan_batch_size_count") > 1.5
