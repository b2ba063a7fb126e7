"""The order of a run's training clips: seeded per epoch, one shard per rank, resumable part-way into an epoch; each
index can carry its epoch to the DataLoader's workers."""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import Dataset, DistributedSampler, Sampler


class ResumableSampler(DistributedSampler):
    """DistributedSampler (seeded shuffle per epoch, one shard per rank) that can start part-way into an epoch.

    `skip` drops this rank's first samples of the epoch, so a resumed run sees exactly the order it
    would have seen without the interruption.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        return iter(list(super().__iter__())[self.skip :])

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)


class EpochKeyed(Sampler[tuple[int, int]]):
    """`sampler`'s indices, each as (epoch, index) with the epoch it was drawn for (its set_epoch), which
    VocoderDataset takes as a key: a DataLoader's persistent workers, whose copies of the dataset never see its
    set_epoch, still cut each epoch's own windows."""

    def __init__(self, sampler: ResumableSampler) -> None:
        self.sampler = sampler

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.sampler.epoch
        return ((epoch, index) for index in self.sampler)

    def __len__(self) -> int:
        return len(self.sampler)
