"""What the client keeps of a stream to send it again after a loading refusal: every chunk until the server's first
audio shows that it is ready, and from then on none once sent, so that a long stream does not grow in memory."""

from __future__ import annotations

import asyncio
import time
import weakref

import numpy as np
import pytest
import torch

from hifigan.inference.streaming import receptive_field
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient
from hifigan.serve.readiness import Replay
from tests.support.serve import random_mels, running_server
from tests.support.tiny import tiny_config


def test_a_released_replay_sends_what_it_kept_then_lets_each_chunk_go():
    """Refused after 3 chunks, sent again: released after its first chunk, the replay still gives the 2 kept ones,
    then the source's; each chunk is let go once given, and a released replay cannot start again."""
    refs: list[weakref.ref] = []

    def source():
        for k in range(6):
            piece = np.full(4, k, np.float32)
            refs.append(weakref.ref(piece))
            yield piece

    async def go() -> list[int]:
        replay = Replay(source())
        first = aiter(replay)
        assert [int((await anext(first))[0]) for _ in range(3)] == [0, 1, 2]  # then refused: all three kept
        assert all(ref() is not None for ref in refs)
        await first.aclose()  # the refused try's sender, cancelled
        again = aiter(replay)
        got = [int((await anext(again))[0])]
        replay.release()  # the server's first audio
        assert refs[1]() is not None and refs[2]() is not None  # kept, not yet sent again: still there
        async for chunk in again:
            got.append(int(chunk[0]))
            del chunk
            assert all(ref() is None for ref in refs[: got[-1]]), got  # nothing before the newest is kept
        with pytest.raises(RuntimeError, match="cannot start again"):
            aiter(replay)
        return got

    assert asyncio.run(go()) == [0, 1, 2, 3, 4, 5]


def test_a_long_stream_keeps_no_chunk_once_the_server_has_answered():
    """A stream of 1-frame messages to a ready server: once the look-ahead has arrived and the first audio come back,
    every message sent before the one in flight is let go (before, with ready_timeout > 0, all were kept to the
    end of the call); the audio is the one-shot audio all the same."""
    cfg = tiny_config()
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg)
    mel = random_mels(np.random.default_rng(0), cfg.num_mels, [40])[0]
    answered_by = receptive_field(cfg).right + 2  # messages sent by the time the first audio can have come back
    refs: list[weakref.ref] = []
    kept: list[int] = []  # per message: how many messages before the previous one are still alive

    async def acoustic_model():
        for k in range(mel.shape[1]):
            if k == answered_by:  # wait (at most 5 s) for the first audio, which lets the first message go
                deadline = time.monotonic() + 5
                while refs[0]() is not None and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
            kept.append(sum(ref() is not None for ref in refs[: max(k - 1, 0)]))
            piece = mel[:, k : k + 1].copy()
            refs.append(weakref.ref(piece))
            yield piece
            del piece

    async def go():
        async with AsyncClient(running.url) as client:
            return await client.stream(acoustic_model(), fmt="f32")

    with running_server(vocoder) as running:
        streamed = asyncio.run(go())
    assert kept[answered_by:] == [0] * (mel.shape[1] - answered_by), kept
    assert np.abs(streamed.audio - vocoder(mel).numpy()).max() <= 1e-5
