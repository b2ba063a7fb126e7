"""A torchrun worker's start, before its ranks meet (hifigan.runtime.torchrun_start), in this process under torchrun's
variables: a command-line error and a --device every rank has alike are said by rank 0 alone, the other ranks end
silently with exit 2; CUDA missing is said by each machine's first process (rank 0's node may have it); SIGTERM is
held until the start is over, then delivered."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from hifigan.cli import main
from hifigan.errors import HifiganError, ReportedElsewhere
from hifigan.runtime.torchrun_start import hold_sigterm_at_start, release_sigterm_at_start
from hifigan.training.data_parallel import init_distributed


def as_rank(monkeypatch, rank: int, local_rank: int) -> None:
    """This process as torchrun starts rank `rank` of 4 (two machines of two)."""
    for key, value in {"RANK": rank, "LOCAL_RANK": local_rank, "WORLD_SIZE": 4, "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": 29599}.items():
        monkeypatch.setenv(key, str(value))


@pytest.mark.parametrize("rank", [0, 1])
def test_a_command_line_error_is_said_by_rank_0_alone(monkeypatch, capsys, rank):
    as_rank(monkeypatch, rank, rank)
    with pytest.raises(SystemExit) as ended:
        main(["train", "--corpus", "c", "--out", "o", "--batch-size", "x"])
    said = ("hifigan train: error: argument --batch-size: invalid int value: 'x' ('hifigan train --help' lists the "
            "options)\n")
    assert (ended.value.code, capsys.readouterr()) == (2, ("", said if rank == 0 else ""))


def test_a_device_every_rank_names_alike_is_said_by_rank_0_alone(monkeypatch):
    as_rank(monkeypatch, 2, 0)  # another machine's first process: the name is wrong there as on rank 0's
    with pytest.raises(ReportedElsewhere, match=r"^--device cdua: not a device"):
        init_distributed("cdua", cli=True)
    as_rank(monkeypatch, 0, 0)
    with pytest.raises(HifiganError, match=r"^--device cdua: not a device") as said:
        init_distributed("cdua", cli=True)
    assert type(said.value) is HifiganError
    assert not torch.distributed.is_initialized()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("rank, local_rank, says", [(0, 0, True), (1, 1, False), (2, 0, True), (3, 1, False)])
def test_cuda_missing_is_said_by_each_machines_first_process(monkeypatch, rank, local_rank, says):
    as_rank(monkeypatch, rank, local_rank)
    with pytest.raises(HifiganError, match=r"^--device cuda: CUDA is not available on this machine$") as raised:
        init_distributed("cuda", cli=True)
    assert isinstance(raised.value, ReportedElsewhere) is not says


def test_sigterm_is_held_at_the_start_then_delivered(monkeypatch):
    as_rank(monkeypatch, 1, 1)
    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    try:
        hold_sigterm_at_start()
        os.kill(os.getpid(), signal.SIGTERM)
        held = list(got)
        release_sigterm_at_start()
        release_sigterm_at_start()  # nothing held any more: nothing delivered again
        assert (held, got) == ([], [signal.SIGTERM])
    finally:
        signal.signal(signal.SIGTERM, previous)
