"""The training and validation data of a run: the datasets, the resumable sampler (this rank's shard) and the
loader, and each epoch's remaining batches in the order an uninterrupted run would see them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader

from hifigan.config import HifiganConfig
from hifigan.data.clip_scan import Clip
from hifigan.data.dataset import VocoderDataset
from hifigan.data.sampler import ResumableSampler
from hifigan.errors import HifiganError
from hifigan.training.distributed import DistInfo
from hifigan.training.stop_signal import ignore_sigint_in_worker


class RunData:
    """Datasets, sampler and loader; windows depend only on (seed, epoch, clip), so any worker count agrees."""

    def __init__(self, config: HifiganConfig, train_clips: list[Clip], valid_clips: list[Clip], dist: DistInfo,
                 device: torch.device, resample: bool = False, mix_to_mono: bool = False) -> None:
        self.config = config
        kw = dict(seed=config.seed, resample=resample, mix_to_mono=mix_to_mono)
        self.train_set = VocoderDataset(train_clips, config, train=True, **kw)
        self.valid_set = VocoderDataset(valid_clips, config, train=False, **kw)
        self.sampler = ResumableSampler(self.train_set, dist.world_size, dist.rank, config.seed)
        if self.sampler.num_samples < config.batch_size:
            raise HifiganError(None, f"the training set has {len(self.train_set)} clips ({self.sampler.num_samples} "
                                     f"per process), fewer than the batch size {config.batch_size}")
        workers = min(config.num_workers, os.cpu_count() or 1)  # more than the cores only contend (torch warns)
        self.loader = DataLoader(
            self.train_set, batch_size=config.batch_size, sampler=self.sampler, drop_last=True,
            num_workers=workers, pin_memory=device.type == "cuda",
            worker_init_fn=ignore_sigint_in_worker if workers > 0 else None,
            persistent_workers=False,
        )

    @property
    def steps_per_epoch(self) -> int:
        return self.sampler.num_samples // self.config.batch_size

    def batches(self, epoch: int, batch_in_epoch: int) -> Iterator[tuple]:
        """`epoch`'s batches from number `batch_in_epoch` on."""
        self.train_set.set_epoch(epoch)
        self.sampler.set_epoch(epoch)
        self.sampler.skip = min(batch_in_epoch * self.config.batch_size, self.sampler.num_samples)
        yield from self.loader
