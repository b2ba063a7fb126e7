"""A torchrun job's refusals before training: every rank's, gathered at the end of a block, so that the job says
once what every rank met (from rank 0, the others silent) and names the rank of a refusal only some ranks met (a
file one node lacks), and every rank stops together: none is left waiting in a collective for a rank that stopped
alone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from hifigan.errors import HifiganError, ReportedElsewhere
from hifigan.training.data_parallel import DistInfo, reported_once


@contextlib.contextmanager
def refusals_agreed(dist: DistInfo) -> Iterator[None]:
    """Run the block (which must run no collective: a rank that stopped early would not join it); under torchrun,
    every rank then shares its refusal (a HifiganError) or none, and when any rank has one every rank raises
    `agreed`'s error. A lone process, or a job of one, raises its own as it is."""
    if not dist.active or dist.world_size == 1:
        yield
        return
    try:
        yield
    except ReportedElsewhere:
        raise
    except HifiganError as e:
        _share(e, dist)
        raise  # unreachable: _share raises once any rank has a refusal
    _share(None, dist)


def _share(error: HifiganError | None, dist: DistInfo) -> None:
    """All-gather each rank's refusal; when any rank has one, raise `agreed`'s error (rank 0: to print it; the
    others: as ReportedElsewhere, silent)."""
    met: list[HifiganError | None] = [None] * dist.world_size
    torch.distributed.all_gather_object(met, error)
    if any(e is not None for e in met):
        raise reported_once(agreed(met), dist) from None


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
