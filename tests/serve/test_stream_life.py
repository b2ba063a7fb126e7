"""A stream's resources: a client that goes away mid-stream frees its slot and its queued windows; a client that does
not read is held back (its input stops being read) instead of the server buffering its audio."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import socket
import time

import httpx
import numpy as np
import pytest
import torch
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hifigan.config import load_config
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import AsyncClient, Client, ServeError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from tests.support.serve import metric, random_mels, running_server, silent_stream
from tests.support.tiny import tiny_config


@pytest.fixture(scope="module")
def vocoder():
    cfg = tiny_config()
    torch.manual_seed(0)
    return Vocoder(Generator(cfg), cfg)


def test_a_client_gone_mid_stream_frees_its_slot_and_queued_work(vocoder, caplog):
    """... and is logged as the other errors are, with error="..." (a parser of the log finds every error by it)."""
    mel = random_mels(np.random.default_rng(0), 16, [60])[0]
    # A long batching delay keeps the stream's window queued when the client goes: a second stream is open (being
    # served, silent), so the pass waits for it.
    options = ServeOptions(max_batch=64, max_batch_delay_ms=400, max_streams=2)
    with running_server(vocoder, options) as running:
        async def go():
            url = running.url.replace("http", "ws") + "/v1/stream"
            async with silent_stream(running) as silent, connect(url) as ws:
                for start in range(0, 60, 10):
                    await ws.send(npy_bytes(mel[:, start : start + 10]))
                session = None
                while session is None or session.cursor.chunks < 6:  # all read: one window queued, the rest gathered
                    await asyncio.sleep(0.005)
                    session = next((s for s in running.state.sessions if s.cursor.chunks), None)
                assert running.state.scheduler.depth == 1 and session.cursor.ready > 0
                ws.transport.abort()  # gone without 'end' or a close frame
                # The server sees it gone before the other one ends: else, for a moment the one client left would be
                # the gone one, with work queued, and its window would run at once (no one else to wait for).
                deadline = time.monotonic() + 5
                while session in running.state.sessions and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                await silent.send("end")  # the other one ends properly, without audio
                assert [m async for m in silent] == []

        before = metric(httpx.get(f"{running.url}/metrics").text, "hifigan_batch_size_sum")
        with caplog.at_level(logging.INFO, logger="hifigan.serve"):
            asyncio.run(go())
            deadline = time.monotonic() + 5
            while running.state.streams and time.monotonic() < deadline:
                time.sleep(0.01)
        assert running.state.streams == 0 and running.state.scheduler.depth == 0 and not running.state.sessions
        said = [r.getMessage() for r in caplog.records
                if r.getMessage().startswith('route="WS /v1/stream" status=499 ')]
        assert len(said) == 1 and re.fullmatch(r'route="WS /v1/stream" status=499 error="client went away" frames=60 '
                                               r'duration=[\d.]+ms', said[0]), said
        time.sleep(0.5)  # past the batching delay: the dropped windows were never run
        page = httpx.get(f"{running.url}/metrics").text
        assert metric(page, "hifigan_batch_size_sum") == before
        assert metric(page, "hifigan_active_streams") == 0
        assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="499"}') == 1
        result = Client(running.url).stream([mel])  # the slots are free again
        assert np.abs(result.audio / 32768 - vocoder(mel).numpy()).max() <= 1 / 32768


def test_a_slow_reader_is_held_back_and_loses_nothing(vocoder):
    frames, count = 100, 200  # 200 windows of 100 frames: 1600 float64 samples (12.8 kB) each, 2.6 MB in all
    mel = random_mels(np.random.default_rng(1), 16, [frames * count])[0]
    options = ServeOptions(max_frames=frames * count, stream_backlog=2 * frames, max_batch_delay_ms=0)
    with running_server(vocoder, options, send_buffer=1 << 16) as running:  # small socket buffers both ways
        async def go():
            url = running.url.replace("http", "ws") + "/v1/stream?format=f64"
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)  # no autotuning up to tcp_rmem's max
            sock.connect(("127.0.0.1", int(running.url.rsplit(":", 1)[1])))
            async with connect(url, sock=sock, max_queue=1, max_size=None) as ws:
                async def send():
                    for i in range(count):
                        await ws.send(npy_bytes(mel[:, i * frames : (i + 1) * frames]))
                    await ws.send("end")

                sender = asyncio.create_task(send())
                session = None
                while session is None:
                    await asyncio.sleep(0.01)
                    session = next((s for s in running.state.sessions if s.cursor.chunks), None)
                last = (-1, -1)
                while (session.cursor.chunks, session.samples) != last:  # until the server stops making progress
                    last = (session.cursor.chunks, session.samples)
                    await asyncio.sleep(0.3)
                stalled = last
                chunks = [np.frombuffer(m, dtype="<f8") async for m in ws]  # now read everything
                await sender
                return stalled, chunks

        (read, sent), chunks = asyncio.run(go())
    assert read < count  # it stopped reading the client's messages ...
    # ... and the audio it sent that was not read is what the buffers on the way hold (the sockets' 2 x 128 kB, the
    # part of a window the socket did not take, what the client library read before it paused; 0.74 MB measured, 0.91
    # MB when the transport went on taking windows up to 64 KiB unsent: serve.connections.SendDeadline), not all 2.6 MB
    assert sent * 8 < 1_200_000, sent * 8
    audio = np.concatenate(chunks)
    expected = vocoder(mel).numpy()
    assert audio.shape == expected.shape and np.abs(audio - expected).max() < 1e-5  # then all of it, in order


def _pending_event_waits() -> int:
    """Tasks of this process still waiting on an asyncio.Event (a server's streams wait on their `progress`)."""
    return sum(1 for o in gc.get_objects()
               if type(o) is asyncio.Task and not o.done() and o.get_coro().__qualname__ == "Event.wait")


def test_slow_readers_that_go_away_leave_no_waiting_task_behind(vocoder):
    """A stream held back (its client does not read) waits for its audio to leave or for its sending side to end;
    when the client goes away the sending side ends first. The wait for progress used to be left pending, one task
    per such stream, kept until the garbage collector found it and asyncio logged 'Task was destroyed but it is
    pending!' on the server's stderr (142 times after 200 such streams on `hifigan serve`)."""
    frames, count, streams = 100, 60, 3
    mel = random_mels(np.random.default_rng(3), 16, [frames * count])[0]
    options = ServeOptions(max_frames=frames * count, stream_backlog=frames, max_batch_delay_ms=0)
    with running_server(vocoder, options, send_buffer=1 << 12) as running:
        async def one() -> None:
            url = running.url.replace("http", "ws") + "/v1/stream?format=f64"
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 12)
            sock.connect(("127.0.0.1", int(running.url.rsplit(":", 1)[1])))
            async with connect(url, sock=sock, max_queue=1, max_size=None) as ws:
                async def send():
                    for i in range(count):
                        await ws.send(npy_bytes(mel[:, i * frames : (i + 1) * frames]))

                sender = asyncio.create_task(send())
                while not any(s.cursor.ready > frames for s in running.state.sessions):  # held back
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.1)
                sender.cancel()
                ws.transport.abort()

        gc.disable()  # the leaked tasks are cycles: counted before a collection destroys them
        try:
            for _ in range(streams):
                asyncio.run(one())
            deadline = time.monotonic() + 5
            while running.state.streams and time.monotonic() < deadline:
                time.sleep(0.01)
            assert running.state.streams == 0 and not running.state.sessions
            assert _pending_event_waits() == 0
        finally:
            gc.enable()
        page = running.state.metrics.text()[0].decode()
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="499"}') == streams


def test_the_audio_after_end_may_take_longer_than_the_idle_timeout():
    """--idle-timeout bounds a client's silence while the server waits for it: once 'end' has come, the stream waits
    for its own audio however long that takes (here a V3 window of ~0.4 s against a 0.1 s timeout)."""
    cfg = load_config("v3")
    torch.manual_seed(0)
    v3 = Vocoder(Generator(cfg), cfg)
    mel = random_mels(np.random.default_rng(2), cfg.num_mels, [600])[0]
    with running_server(v3, ServeOptions(idle_timeout_s=0.1, max_batch_delay_ms=0)) as running:
        result = Client(running.url).stream([mel], fmt="f32")
        page = httpx.get(f"{running.url}/metrics").text
    assert np.abs(result.audio - v3(mel).numpy()).max() <= 1e-5
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="200"}') == 1


async def _first_audio(client: AsyncClient, running, mel: np.ndarray) -> asyncio.Task:
    """`client` streaming `mel`, then holding its stream open (30 s) without 'end': the task, once the server has sent
    some of its audio."""
    async def held():
        yield mel
        await asyncio.sleep(30)

    streamed = asyncio.create_task(client.stream(held(), "f32"))
    while not any(session.samples for session in running.state.sessions):
        await asyncio.sleep(0.01)
    return streamed


def test_a_stream_the_drain_timeout_cuts_counts_as_503_and_the_client_says_it_may_be_sent_again(vocoder):
    """--drain-timeout cuts off two open streams, a silent one and one mid-way (its first audio came): each is closed
    1012 (service restart), both count as 503, not as clients gone, and the Python client raises a 503 ServeError
    saying that the server shut down and the stream may be sent again (it raised a bare "1012: closed with 1012")."""
    mel = random_mels(np.random.default_rng(4), 16, [50])[0]
    options = ServeOptions(drain_timeout_s=0.3, idle_timeout_s=30)
    with running_server(vocoder, options) as running:
        async def go():
            async with AsyncClient(running.url) as client, silent_stream(running) as ws:
                streamed = await _first_audio(client, running, mel)
                running.server.drain()
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                with pytest.raises(ServeError) as refused:
                    await streamed
                return closed.value.rcvd.code, refused.value

        code, refused = asyncio.run(go())
        deadline = time.monotonic() + 5
        while running.state.streams and time.monotonic() < deadline:
            time.sleep(0.01)
        page = running.state.metrics.text()[0].decode()
    assert code == 1012
    assert (refused.status, refused.message) == (503, "the server shut down before the stream ended (--drain-timeout; "
                                                      "closed 1012: service restart): the stream may be sent again, "
                                                      "from its first chunk")
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="503"}') == 2
    assert 'status="499"' not in page


def test_a_stream_whose_connection_is_lost_says_so_and_that_it_may_be_sent_again(vocoder):
    """A stream's connection cut mid-way with no close frame (here a relay between client and server resets both
    sides after the first audio, as a proxy or a network may) raised a bare "1006: closed with 1006"; it says now
    that the connection was lost before the stream ended and that the stream may be sent again."""
    mel = random_mels(np.random.default_rng(5), 16, [50])[0]
    with running_server(vocoder, ServeOptions(idle_timeout_s=30)) as running:
        host, port = running.url.removeprefix("http://").split(":")

        async def go():
            links: list[asyncio.StreamWriter] = []

            async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                links.extend([writer, up_writer])

                async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                    while data := await source.read(65536):
                        sink.write(data)
                        await sink.drain()

                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

            proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
            async with AsyncClient(f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}") as client:
                streamed = await _first_audio(client, running, mel)
                for link in links:
                    link.transport.abort()  # a reset: no close frame either way
                with pytest.raises(ServeError) as refused:
                    await asyncio.wait_for(streamed, 10)
            proxy.close()
            return refused.value

        refused = asyncio.run(go())
    assert (refused.status, refused.message) == (1006, "the connection to the server was lost before the stream "
                                                       "ended (closed 1006: no close frame came): the stream may be "
                                                       "sent again, from its first chunk")
