"""Data-parallel training: this process's place in a torchrun job (rank, device, the process group, agreeing when to
stop, the DDP wrappers) and its share of the data (the datasets, its shard of every epoch's shuffled order, the
loader). A plain run is the one-process case."""

from __future__ import annotations

import contextlib
import os
import signal
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader

from hifigan.config import HifiganConfig
from hifigan.data.carried import CarryFailures, Failure, collate
from hifigan.data.clip_scan import Clip
from hifigan.data.dataset import VocoderDataset
from hifigan.data.sampler import EpochKeyed, ResumableSampler
from hifigan.errors import HifiganError, ReportedElsewhere
from hifigan.messages.option_names import setting
from hifigan.messages.plural import count
from hifigan.runtime.cpus import usable_cpus
from hifigan.runtime.torchrun_start import (
    end_worker_process,  # noqa: F401  # documented as this module's too
    launched_by_torchrun,
    release_sigterm_at_start,
    says_refusal,
)
from hifigan.training.state import TrainingState
from hifigan.training.stop_signal import is_main_thread
from hifigan.training.worker_deaths import fetched
from hifigan.training.worker_signals import end_workers, leave_stop_signals_to_parent


@dataclass
class DistInfo:
    """This process's place in a torchrun job (rank 0 of 1, in no process group, when not launched by torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    in_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        """In a process group: models are DDP-wrapped and ranks agree on when to stop (also for one process)."""
        return self.in_group


def init_distributed(device: str, cli: bool) -> DistInfo:
    """Join the process group torchrun describes in RANK/WORLD_SIZE/LOCAL_RANK (NCCL on GPUs, gloo on CPU).

    A one-process torchrun job joins a group of one too, so the DDP path runs exactly as it would on more GPUs.
    """
    if not launched_by_torchrun():
        return DistInfo()
    rank = int(os.environ["RANK"])
    info = DistInfo(rank, int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", rank)), in_group=True)
    try:  # before the ranks meet, as it chooses how: an unknown device, or cuda without CUDA, is one line
        cuda = training_device(device, info, cli).type == "cuda"
    except HifiganError as e:  # said by rank 0 (the same name on every rank), or each machine's local rank 0
        if says_refusal(this_machine=_names_cuda(device)):  # (CUDA, or that GPU, missing on this machine)
            raise
        raise ReportedElsewhere(e.path, e.problem) from None
    release_sigterm_at_start()  # `python -m hifigan`'s start has said all it had to (hifigan.runtime.torchrun_start)
    if cuda:
        torch.cuda.set_device(info.local_rank)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    return info


def _names_cuda(device: str) -> bool:
    """Whether `device` names a CUDA device: one this machine may lack while another has it."""
    try:
        return torch.device(device).type == "cuda"
    except (RuntimeError, TypeError):
        return False


def training_device(name: str, dist: DistInfo, cli: bool) -> torch.device:
    """The device this rank trains on (hifigan.runtime.devices checks the name): `cuda` means the rank's local GPU
    unless an index is given; training runs on cpu or cuda only. `cli` False: errors name the field (option_names)."""
    from hifigan.runtime.devices import ACCEPTED, resolve_device

    device = resolve_device(name, cli)
    if device.type == "cuda":
        return torch.device("cuda", dist.local_rank if device.index is None else device.index)
    if device.type != "cpu":
        raise HifiganError(None, f"{setting('device', name, cli)}: training runs on cpu or cuda only ({ACCEPTED})")
    return device


@contextlib.contextmanager
def warnings_from_main(dist: DistInfo) -> Iterator[None]:
    """Inside the block, warnings every rank would give (the scan's, a resume's) are given by rank 0 alone."""
    with warnings.catch_warnings():
        if not dist.is_main:
            warnings.simplefilter("ignore")
        yield


def largest(values: list[int], dist: DistInfo, device: torch.device) -> list[int]:
    """Each of `values` (small non-negative integers) at its largest over the ranks, on every rank (one
    all-reduce: a host sync on a GPU); a lone process, or a job of one, keeps its own (no collective)."""
    if not dist.active or dist.world_size == 1:
        return values
    found = torch.tensor([float(v) for v in values], device=device)
    torch.distributed.all_reduce(found, op=torch.distributed.ReduceOp.MAX)
    return [int(v) for v in found.tolist()]


def from_main(value: Any, dist: DistInfo) -> Any:
    """Rank 0's `value` on every rank (other ranks pass None); a lone process keeps its own."""
    if not dist.active or dist.world_size == 1:
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def first_failure(failure: Failure | None, dist: DistInfo, device: torch.device) -> Failure | None:
    """On every rank, the lowest rank's `failure` when any rank has one, else None: all ranks stop together, and
    none is left waiting in a collective for a rank that stopped alone."""
    return failure_of(largest([failed_code(failure, dist)], dist, device)[0], failure, dist)


def failed_code(failure: Failure | None, dist: DistInfo) -> int:
    """This rank's part of a `largest` that finds the lowest rank with a failure: 0 without one."""
    return 0 if failure is None else dist.world_size - dist.rank


def failure_of(code: int, failure: Failure | None, dist: DistInfo) -> Failure | None:
    """The failure of the lowest rank that had one, on every rank (`code`: the largest `failed_code`; when it is not
    0, that rank broadcasts its failure); a lone process keeps its own."""
    if not code or not dist.active or dist.world_size == 1:
        return failure
    box = [failure]
    torch.distributed.broadcast_object_list(box, src=dist.world_size - code)
    return box[0]


_held_sigterm: list[Any] = []  # SIGTERM's handler before reported_once held it (rank 0), until release_sigterm


def reported_once(error: HifiganError, dist: DistInfo) -> HifiganError:
    """`error`, which every rank met at once, as rank 0 raises it; the others raise it as ReportedElsewhere (the
    command line prints it once, from rank 0). torchrun stops a job's other processes (SIGTERM) as soon as one has
    ended, so rank 0 holds SIGTERM (ignores it) from here until the error is printed (the command line then ends
    the process; a script calls release_sigterm), and the ranks sync once before any of them raises: none can end
    before rank 0 is sure to print the error."""
    if dist.is_main and dist.world_size > 1 and is_main_thread() and not _held_sigterm:
        _held_sigterm.append(signal.signal(signal.SIGTERM, signal.SIG_IGN))
    from_main(None, dist)
    return error if dist.is_main else ReportedElsewhere(error.path, error.problem, error)


def release_sigterm() -> None:
    """SIGTERM's handler as it was before an error every rank met held it (reported_once), for a script that calls
    training.job.train under torchrun and, having printed that error on rank 0, goes on; nothing when none is held."""
    if _held_sigterm and is_main_thread():
        signal.signal(signal.SIGTERM, _held_sigterm.pop())


def wrap_ddp(state: TrainingState, dist: DistInfo, device: torch.device) -> None:
    """In a process group, the generator and each discriminator get a DistributedDataParallel wrapper for the
    calls whose gradients are averaged (the generator's forward, the discriminator step); idempotent."""
    if not dist.active or state.runs:
        return
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    state.runs = {name: DDP(module, device_ids=ids)
                  for name, module in {"generator": state.generator, **state.discriminators}.items()}


class RunData:
    """Datasets, sampler and loader; windows depend only on (seed, epoch, clip), so any worker count agrees. The
    loader's workers serve every epoch of a fit (each index comes with its epoch: EpochKeyed) until end_workers."""

    def __init__(self, config: HifiganConfig, train_clips: list[Clip], valid_clips: list[Clip], dist: DistInfo,
                 device: torch.device, resample: bool = False, mix_to_mono: bool = False,
                 mel_convention: str | None = None, *, cli: bool) -> None:
        self.config, self.dist, self.device = config, dist, device
        kw = dict(seed=config.seed, resample=resample, mix_to_mono=mix_to_mono, mel_convention=mel_convention, cli=cli)
        self.train_set = VocoderDataset(train_clips, config, train=True, **kw)
        self.valid_set = VocoderDataset(valid_clips, config, train=False, **kw)
        self.sampler = ResumableSampler(self.train_set, dist.world_size, dist.rank, config.seed)
        if self.sampler.num_samples < config.batch_size:
            raise HifiganError(None, f"the training set has {count(len(self.train_set), 'clip')} "
                                     f"({self.sampler.num_samples} per process), fewer than the batch size "
                                     f"{config.batch_size}")
        workers = min(config.num_workers, usable_cpus())  # more than the cores only contend (torch warns)
        self.loader = DataLoader(  # a clip that fails to load: a Failure carried to this process (data.carried)
            CarryFailures(self.train_set), batch_size=config.batch_size, sampler=EpochKeyed(self.sampler),
            drop_last=True, collate_fn=collate,
            num_workers=workers, pin_memory=device.type == "cuda",
            worker_init_fn=leave_stop_signals_to_parent if workers > 0 else None,
            # Workers started once, not every epoch (a start each, before the epoch's first batch: a large share of
            # a short epoch's time); the keys carry the epoch, which their copies of train_set would not see.
            persistent_workers=workers > 0,
            # Each iterator draws its workers' base seed from this generator, not torch's global RNG: a resumed run
            # starts an iterator mid-epoch, which would leave the checkpoints' torch RNG state unlike a straight run's.
            generator=torch.Generator().manual_seed(config.seed),
        )

    @property
    def steps_per_epoch(self) -> int:
        return self.sampler.num_samples // self.config.batch_size

    def batches(self, epoch: int, batch_in_epoch: int) -> Iterator[tuple | Failure]:
        """`epoch`'s batches from number `batch_in_epoch` on, each a Failure where a clip no longer loads or a worker
        died (training.worker_deaths; the caller makes every rank agree on it: training.stop_rules, in the one
        collective of each step)."""
        self.train_set.set_epoch(epoch)  # for a bare index in this process; the workers get (epoch, index)
        self.sampler.set_epoch(epoch)
        self.sampler.skip = min(batch_in_epoch * self.config.batch_size, self.sampler.num_samples)
        yield from fetched(self.loader)  # forks the workers once (start_workers); later epochs reuse them

    def end_workers(self) -> None:
        """Stop the loader's workers, which otherwise wait for the next epoch (worker_signals.end_workers); the next
        `batches` starts new ones."""
        end_workers(self.loader)
