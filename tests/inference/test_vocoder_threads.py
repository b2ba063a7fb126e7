"""A Vocoder as a service embeds it: copies made in worker threads at once (copy.deepcopy, one per worker) split as
the original and vocode as it does."""

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
