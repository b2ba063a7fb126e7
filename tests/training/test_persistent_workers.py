"""The training loader's workers serve every epoch of a fit: started once, not per epoch, each epoch's windows still
its own (the sampler carries the epoch with each index), and gone when the fit ends."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from hifigan.audio import find_audio
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.training.data_parallel import DistInfo, RunData
from hifigan.training.job import train
from hifigan.training.options import TrainJob, TrainOptions
from tests.support.files import equal_states
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


class WithPid(Dataset):
    """`dataset`'s items, the id of the process that made each appended."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key):
        return (*self.dataset[key], os.getpid())


def _run_data(corpus: Path, workers: int) -> RunData:
    cfg = tiny_config(batch_size=2, num_workers=workers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = scan_clips(find_audio(corpus), cfg, cli=True).clips
    data = RunData(cfg, clips, clips[:1], DistInfo(), torch.device("cpu"), cli=True)
    data.loader.dataset.dataset = WithPid(data.train_set)  # the loader's CarryFailures
    return data


def _children() -> set[int]:
    """This process's child processes, zombies included."""
    ours = str(os.getpid())
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == ours}


def _ppid(proc: Path) -> str:
    try:
        return proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return ""


def test_two_workers_serve_every_epoch_and_give_the_batches_of_none(tiny_corpus):
    """The same two worker processes make epochs 0 and 1, and a start part-way into epoch 2 after part of it was taken
    (a resume's); every batch equals the one made in this process, so each epoch has its own windows; end_workers
    ends and reaps them."""
    data, alone = _run_data(tiny_corpus, 2), _run_data(tiny_corpus, 0)
    pids: set[int] = set()
    try:
        for epoch in (0, 1):
            got, want = list(data.batches(epoch, 0)), list(alone.batches(epoch, 0))
            assert len(got) == 4 and equal_states([b[:4] for b in got], [b[:4] for b in want]), epoch  # not the pids
            pids.add(frozenset(int(p) for b in got for p in b[4]))
        next(data.batches(2, 0))  # abandoned after its first batch, as a fit that stops mid-epoch
        assert equal_states([b[:4] for b in data.batches(2, 1)], [b[:4] for b in alone.batches(2, 1)])
        (workers,) = pids
        assert len(workers) == 2 and os.getpid() not in workers and workers <= _children()
        first, second = (list(alone.batches(epoch, 0)) for epoch in (0, 1))
        assert not equal_states([b[1] for b in first], [b[1] for b in second])  # the windows moved
    finally:
        data.end_workers()
    assert not workers & _children()


def test_a_run_whose_hook_raised_leaves_no_worker_and_its_folder_free(tmp_path, tiny_corpus):
    """train() with two workers, stopped mid-epoch by its on_step hook, the exception kept (its traceback holds the
    run's frames, the loader among them): no child process is left, nor a zombie, and a resume into the folder is
    not refused as a run still going (a worker holding the folder's lock)."""
    before, out = _children(), tmp_path / "run"

    def stop(trainer, batch, result) -> None:
        if trainer.step == 2:
            raise RuntimeError("stop")

    options = TrainOptions(out=out, validation_interval=0, progress=False, quiet=True)
    with pytest.raises(RuntimeError) as raised:
        train(TrainJob(options, Corpus(folder=tiny_corpus, valid_count=2), config=tiny_config(num_workers=2),
                       max_steps=3, on_step=stop))
    assert _children() <= before and raised.value.__traceback__ is not None
    assert train(TrainJob(options, resume=out, max_steps=3)).step == 3
    assert _children() <= before


def test_workers_ended_are_started_afresh_by_the_next_batches(tiny_corpus):
    """end_workers leaves the loader without its iterator: the next `batches` (a second fit of the same Trainer)
    forks new workers and gives the batches made in this process, not a reset of the ended ones."""
    data, alone = _run_data(tiny_corpus, 2), _run_data(tiny_corpus, 0)
    try:
        before = {int(p) for b in data.batches(0, 0) for p in b[4]}
        data.end_workers()
        got = list(data.batches(1, 0))
        assert equal_states([b[:4] for b in got], [b[:4] for b in alone.batches(1, 0)])
        after = {int(p) for b in got for p in b[4]}
        assert len(after) == 2 and not after & before
    finally:
        data.end_workers()
    assert not after & _children()
