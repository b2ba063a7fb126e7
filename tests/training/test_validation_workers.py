"""The validation's DataLoader workers in a fit (Validation.workers_kept): started as the fit starts, they serve every
validation of the fit and end with it; a death among them, before the first validation or between two, stops the run
as a training worker's does (training.worker_deaths). Real workers, real SIGKILLs."""

from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import pytest
import torch

from hifigan.audio import find_audio
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.data.dataset import VocoderDataset
from hifigan.models import Generator
from hifigan.runtime import cpus
from hifigan.training.job import train
from hifigan.training.options import TrainJob, TrainOptions
from hifigan.training.validation import Validation
from hifigan.training.worker_deaths import WorkerDeaths, WorkerDied
from tests.support.tiny import tiny_config
from tests.training.test_persistent_workers import _run_data
from tests.training.test_train_faults import children

pytestmark = pytest.mark.usefixtures("single_thread")

CFG = tiny_config()


@pytest.fixture(scope="module")
def held_out(tiny_corpus) -> VocoderDataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = scan_clips(find_audio(tiny_corpus), CFG, cli=True).clips
    return VocoderDataset(clips, CFG, train=False, cli=True)


def validation(dataset: VocoderDataset, workers: int) -> Validation:
    return Validation(dataset, CFG, torch.device("cpu"), media_clips=0, num_workers=workers)


def ours() -> set[int]:
    """This process's children (its DataLoader workers), zombies included."""
    return set(children(os.getpid()))


def test_a_blocks_passes_share_the_workers_it_started_and_score_as_without_workers(held_out):
    torch.manual_seed(0)
    generator = Generator(CFG)
    alone = validation(held_out, 0).run(generator, 0, 0, None)
    check, before = validation(held_out, 2), ours()
    with check.workers_kept(True):
        workers = ours() - before
        assert len(workers) == 2, "started by the block, before its first pass"
        assert check._kept._iterator._send_idx == 0, "given no batch to read before a pass (torch's count)"
        values = [check.run(generator, step, 0, None) for step in (1, 2)]
        assert ours() - before == workers, "the same two after each pass"
    assert not workers & ours(), "ended and reaped with the block"
    assert values == pytest.approx([alone, alone], rel=1e-5)  # a worker's mel may round differently (its threads)
    with check.workers_kept(False):  # a fit that does not validate (another rank's, or validation off)
        assert ours() <= before
        assert check.run(generator, 3, 0, None) == pytest.approx(alone, rel=1e-5)
        assert ours() <= before, "outside a block each pass ends its own workers"


def step_until_dead(pid: int, timeout: float = 30) -> None:
    """"A step": this process runs on until the process `pid` has died (a zombie, or reaped) and a little after, so
    that the SIGCHLD its death sends is handled here, not in what the test calls next."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            state = "X"
        time.sleep(0.01)
        if state in ("Z", "X"):
            return
        assert time.monotonic() < deadline, f"process {pid} still ran {timeout} s after its SIGKILL"


@pytest.mark.parametrize("passes", [0, 1])
def test_a_worker_killed_before_a_pass_stops_that_pass(held_out, passes):
    """Killed before the first pass or between two, while a run watches (its fit): the death is recorded, not raised
    by torch's SIGCHLD handler in what runs meanwhile (the sleep, a training step), and the next pass raises it."""
    generator, check, before = Generator(CFG), validation(held_out, 2), ours()
    with WorkerDeaths(), check.workers_kept(True):
        for step in range(passes):
            check.run(generator, step, 0, None)
        pid = check._kept._iterator._workers[0].pid
        os.kill(pid, signal.SIGKILL)
        step_until_dead(pid)
        with pytest.raises(WorkerDied) as raised:
            check.run(generator, passes, 0, None)
    assert (raised.value.problem, raised.value.fewer) == (f"DataLoader worker (pid {pid}) was killed by SIGKILL", 1)
    assert ours() <= before


def test_a_fit_starts_its_validation_workers_once_and_a_death_among_them_stops_it_saved(tmp_path, tiny_corpus):
    """Every step of a fit that validates every 2 steps sees the same four workers (two training, two validation,
    these from the fit's start on); none is left after it. A validation worker killed at step 5 stops the run at
    step 6's validation, step 6 saved, with the line that names the worker."""
    seen: dict[int, set[int]] = {}
    killed: list[int] = []

    def look(trainer, batch, result) -> None:
        seen[trainer.step] = ours()
        if trainer.step == 5:
            killed.append(trainer.validation._kept._iterator._workers[1].pid)
            os.kill(killed[0], signal.SIGKILL)

    before, out = ours(), tmp_path / "run"
    options = TrainOptions(out=out, validation_interval=2, checkpoint_interval=0, progress=False, quiet=True,
                           media_clips=0)  # the workers are the claim, not TensorBoard's mel images
    with pytest.raises(WorkerDied) as raised:
        train(TrainJob(options, Corpus(folder=tiny_corpus, valid_count=2), config=tiny_config(num_workers=2),
                       max_steps=8, on_step=look))
    assert sorted(seen) == list(range(1, 6))
    (workers,) = {frozenset(pids - before) for pids in seen.values()}
    assert len(workers) == 4 and killed[0] in workers
    assert ours() <= before
    checkpoint = out / "checkpoints" / "ckpt_00000006.pt"
    assert str(raised.value) == (
        f"DataLoader worker (pid {killed[0]}) was killed by SIGKILL (often the out-of-memory killer; checkpoint "
        f"{checkpoint} holds step 6: resume=Path('{out}') with fewer workers, num_workers=1)")


def test_the_loaders_workers_stay_within_a_cpu_quota(held_out, tiny_corpus, tmp_path, monkeypatch):
    """num_workers beyond the CPUs this process may keep busy is cut to them, a container's CPU quota included
    (runtime.cpus.usable_cpus): a pod limited to 1.5 CPUs runs one validation and one training worker, not four."""
    monkeypatch.setattr(cpus, "CGROUP", tmp_path)
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert validation(held_out, 4).num_workers == 1
    assert _run_data(tiny_corpus, 4).loader.num_workers == 1
    assert validation(held_out, 0).num_workers == 0
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert validation(held_out, 2).num_workers == min(2, len(os.sched_getaffinity(0)))
