"""A clip that fails to load inside a batch reaches the main process as the failure of the whole batch, wherever
in the batch it falls; the batches around it are torch's own collation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, Dataset

from hifigan.data.carried import CarryFailures, ClipLoadError, Failure, collate, raise_failures
from hifigan.errors import AudioError


class _Clips(Dataset):
    """Item i: a tensor of i, or an AudioError for the indices in `broken`."""

    def __init__(self, size: int, broken: set[int]) -> None:
        self.size, self.broken = size, broken

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> torch.Tensor:
        if index in self.broken:
            raise AudioError(f"/corpus/clip{index}.wav", "cannot be read (truncated)")
        return torch.full((3,), float(index))


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 6), data=st.data())
def test_a_failure_anywhere_in_a_batch_is_the_batch(size, data):
    where = data.draw(st.integers(0, size - 1))
    items = [CarryFailures(_Clips(size, {where}))[i] for i in range(size)]
    batch = collate(items)
    assert batch == Failure(f"/corpus/clip{where}.wav", "cannot be read (truncated)")
    with pytest.raises(ClipLoadError) as caught:
        list(raise_failures(iter([batch])))
    assert str(caught.value) == f"/corpus/clip{where}.wav: cannot be read (truncated)"


def test_batches_before_a_failure_arrive_whole_and_the_failure_stops_the_run():
    loader = DataLoader(CarryFailures(_Clips(8, {5})), batch_size=3, collate_fn=collate)
    got = []
    with pytest.raises(ClipLoadError, match=r"^/corpus/clip5\.wav: cannot be read"):
        for batch in raise_failures(iter(loader)):
            got.append(batch)
    assert len(got) == 1
    assert torch.equal(got[0], torch.tensor([[0.0] * 3, [1.0] * 3, [2.0] * 3]))
