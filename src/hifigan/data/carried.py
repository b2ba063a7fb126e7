"""A clip that fails to load mid-run (deleted, truncated or replaced since the up-front scan), training or held-out,
reaches the training loop as the project's own one-line error, from DataLoader worker processes too: torch
re-raises a worker's exception as its type called with a traceback string, which loses the file and the problem.
The failure is returned as an item instead, and the batch it falls in carries it to the main process, which
raises it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset, default_collate

from hifigan.errors import HifiganError
from hifigan.messages.option_names import setting


class ClipLoadError(HifiganError):
    """A training or held-out clip that loaded at the scan could not be loaded during the run."""

    def stopped(self, checkpoint: Path | None, step: int, run: Path, cli: bool) -> ClipLoadError:
        """This error as the run that it stopped reports it: what the checkpoint kept, and how to go on (`cli`
        False: as a Python caller resumes, option_names)."""
        saved = f"checkpoint {checkpoint} holds step {step}" if checkpoint else "no checkpoint written"
        return ClipLoadError(self.path, f"{self.problem} (changed since the scan; {saved}: fix the data, then "
                                        f"{setting('resume', run, cli)})")

    def carried(self) -> Failure:
        """This error as the ranks pass it on."""
        return Failure(self.path, self.problem)


@dataclass(frozen=True)
class Failure:
    """An item, or a batch, that could not be made: the file and the problem."""

    path: str | None
    problem: str

    def error(self) -> HifiganError:
        """The error this failure stops a run with: a clip that no longer loads (a subclass says its own)."""
        return ClipLoadError(self.path, self.problem)


class CarryFailures(Dataset):
    """`dataset`'s items, a Failure where loading one raises a HifiganError."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> Any:
        try:
            return self.dataset[index]
        except HifiganError as e:
            return Failure(e.path, e.problem)


def _first_failure(items: Sequence[Any]) -> Failure | None:
    return next((item for item in items if isinstance(item, Failure)), None)


def collate(items: Sequence[Any]) -> Any:
    """The batch of `items` (torch's default collation), or the first Failure among them."""
    failed = _first_failure(items)
    return failed if failed is not None else default_collate(items)


def listed(items: Sequence[Any]) -> Any:
    """`items` as a list (clips of different lengths, as the validation takes them), or the first Failure."""
    failed = _first_failure(items)
    return failed if failed is not None else list(items)


def raise_failures(batches: Iterator[Any]) -> Iterator[Any]:
    """`batches`, raising a carried Failure as its error (a ClipLoadError) in this (the main) process."""
    for batch in batches:
        if isinstance(batch, Failure):
            raise batch.error()
        yield batch
