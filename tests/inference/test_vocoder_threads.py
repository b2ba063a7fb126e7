"""A Vocoder as a service embeds it: one shared by threads vocodes what it vocodes alone, bit for bit, and copies
made in worker threads at once (copy.deepcopy, one per worker) split as the original and vocode as it does."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from hifigan.inference.vocoder import Vocoder
from tests.support.threads import two_threads

LENGTHS = (3, 17, 40, 90)


def _mels(num_mels: int) -> list[torch.Tensor]:
    seeded = torch.Generator().manual_seed(0)
    return [torch.randn(num_mels, n, generator=seeded) / 2.3 - 2 for n in LENGTHS]  # log10 values


def _calls(vocoder: Vocoder, mels: list[torch.Tensor], kind: int) -> list[torch.Tensor]:
    """One of the three ways a request vocodes its mels: one at a time, as a batch, streamed in chunks."""
    if kind == 0:
        return [vocoder(m) for m in mels]
    if kind == 1:
        return vocoder.batch(mels)
    return [torch.cat(list(vocoder.stream(torch.split(m, 7, dim=1)))) for m in mels]


def test_one_vocoder_shared_by_threads_gives_the_sequential_outputs(tiny_checkpoint):
    """Calls, batches and streams of mixed lengths at once from 6 threads, on a split backend (a worker pool shared by
    the callers) under a mel convention, each thread's first call the Vocoder's first: the outputs of one thread."""
    with two_threads():
        mels = _mels(16)
        reference = Vocoder.from_checkpoint(tiny_checkpoint, backend="tiled-split").set_mel_convention("log10")
        want = [_calls(reference, mels, kind) for kind in range(3)]
        for _ in range(3):
            shared = Vocoder.from_checkpoint(tiny_checkpoint, backend="tiled-split").set_mel_convention("log10")
            start = threading.Barrier(6)

            def request(k: int, vocoder: Vocoder = shared, start: threading.Barrier = start) -> list[torch.Tensor]:
                start.wait()
                return _calls(vocoder, mels, k % 3)

            with ThreadPoolExecutor(6) as pool:
                got = list(pool.map(request, range(6)))
            for k, audio in enumerate(got):
                assert all(torch.equal(a, b) for a, b in zip(audio, want[k % 3], strict=True)), k


def test_copies_made_in_threads_at_once_split_as_the_original(tiny_checkpoint):
    """Before: building a split engine set torch's process-wide default thread count to 1 while its workers took
    theirs, so a copy built meanwhile in another new thread took 1 thread for good: no worker pool (no split), that
    thread's later work on one thread, and audio of other float rounding than the original's."""
    with two_threads():
        vocoder = Vocoder.from_checkpoint(tiny_checkpoint, backend="tiled-split")
        mel = _mels(16)[-1].repeat(1, 4)  # 360 frames: long enough for one piece per thread
        want = vocoder(mel)
        for _ in range(12):
            start = threading.Barrier(4)

            def make(_: int, start: threading.Barrier = start) -> tuple[Vocoder, int]:
                start.wait()
                twin = copy.deepcopy(vocoder)
                return twin, torch.get_num_threads()

            with ThreadPoolExecutor(4) as pool:
                made = list(pool.map(make, range(4)))
            for twin, threads in made:
                assert (twin._runner.threads, threads) == (2, 2)
                assert twin._runner.pool is not None
                assert torch.equal(twin(mel), want)
