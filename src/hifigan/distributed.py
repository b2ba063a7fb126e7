"""Distributed training: this process's place in a torchrun job, its device, and agreeing across ranks."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from hifigan.errors import HifiganError


@dataclass
class DistInfo:
    """This process's place in a torchrun job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str) -> DistInfo:
    """Join the process group torchrun describes in RANK/WORLD_SIZE/LOCAL_RANK (NCCL on GPUs, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", os.environ["RANK"])))
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.set_device(info.local_rank)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    return info


def training_device(name: str, dist: DistInfo) -> torch.device:
    """The device this rank trains on: `cuda` means the rank's local GPU unless an index is given."""
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise HifiganError(None, "--device cuda: CUDA is not available on this machine")
        return torch.device("cuda", dist.local_rank if device.index is None else device.index)
    if device.type != "cpu":
        raise HifiganError(None, f"--device must be cpu or cuda, got {name!r}")
    return device


def agree(stop: bool, dist: DistInfo, device: torch.device) -> bool:
    """True on every rank when any rank says stop (a time limit or a signal may reach them at different steps)."""
    if not dist.active:
        return stop
    flag = torch.tensor([float(stop)], device=device)
    torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
    return bool(flag.item())
