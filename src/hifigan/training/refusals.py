"""A torchrun job's refusals before training: every rank's, gathered at the end of a block, so that the job says
once what every rank met (from rank 0, the others silent) and names the rank of a refusal only some ranks met (a
file one node lacks), and every rank stops together: none is left waiting in a collective for a rank that stopped
alone (a block's collective is preceded by `Agreement.now()`, where a rank that stopped earlier meets the others)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from hifigan.errors import HifiganError, ReportedElsewhere
from hifigan.training.data_parallel import DistInfo, reported_once


class Agreement:
    """The ranks' agreement inside a `refusals_agreed` block: `now()` where the block runs a collective."""

    def __init__(self, dist: DistInfo) -> None:
        self.dist, self.settled = dist, False

    def now(self) -> None:
        """Called by every rank just before a collective of the block: a rank that refused earlier in the block
        shares its refusal at the same moment (in `refusals_agreed`), so every rank raises the agreed error here
        instead of waiting in that collective for a rank that will never join it. A lone process: nothing."""
        if self.dist.active and self.dist.world_size > 1:
            self.share(None)

    def share(self, error: HifiganError | None) -> None:
        """All-gather each rank's refusal; when any rank has one, raise `agreed`'s error (rank 0: to print it; the
        others: as ReportedElsewhere, silent), and the block is settled: it gathers no more."""
        met: list[HifiganError | None] = [None] * self.dist.world_size
        torch.distributed.all_gather_object(met, error)
        if any(e is not None for e in met):
            self.settled = True
            raise reported_once(agreed(met), self.dist) from None


@contextlib.contextmanager
def refusals_agreed(dist: DistInfo) -> Iterator[Agreement]:
    """Run the block; under torchrun, every rank then shares its refusal (a HifiganError) or none, and when any
    rank has one every rank raises `agreed`'s error. A collective inside the block must follow the Agreement's
    `now()` on every rank (a rank that stopped early would not join it). A lone process, or a job of one, raises its
    own refusal as it is."""
    agreement = Agreement(dist)
    if not dist.active or dist.world_size == 1:
        yield agreement
        return
    try:
        yield agreement
    except ReportedElsewhere:
        raise
    except HifiganError as e:
        if agreement.settled:  # the agreed error itself, raised at `now()`
            raise
        agreement.share(e)
        raise  # unreachable: share raises once any rank has a refusal
    agreement.share(None)


def agreed(met: list[HifiganError | None]) -> HifiganError:
    """The one error that says each rank's refusal (`met[rank]`, None: that rank had none): one every rank met as it
    is; one some ranks met, with those ranks named; several, each with its ranks, in one line."""
    ranks: dict[str, list[int]] = {}
    first: dict[str, HifiganError] = {}
    for rank, e in enumerate(met):
        if e is not None:
            ranks.setdefault(str(e), []).append(rank)
            first.setdefault(str(e), e)
    if len(ranks) == 1 and len(next(iter(ranks.values()))) == len(met):
        return next(iter(first.values()))
    if len(first) == 1:
        (key, e), = first.items()
        return type(e)(e.path, f"{e.problem} ({_ranks(ranks[key], len(met))})")
    return HifiganError(None, "; ".join(f"{key} ({_ranks(ranks[key], len(met))})" for key in first))


def _ranks(ranks: list[int], world_size: int) -> str:
    """Which ranks met a refusal: 'rank 1 of 2', 'ranks 0, 2 of 4'."""
    return f"{'rank' if len(ranks) == 1 else 'ranks'} {', '.join(map(str, ranks))} of {world_size}"
