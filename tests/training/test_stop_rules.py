"""The stop rules of a run (training.stop_rules): a signal stops every rank of a job at the same step, each naming
the signal, which the job says once (rank 0), whichever rank got it (two spawned gloo processes, no model); a job
of one process decides alone."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from hifigan.data.carried import ClipLoadError, Failure
from hifigan.training.data_parallel import DistInfo
from hifigan.training.stop_rules import StopRules
from hifigan.training.stop_signal import StopOnSignal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank: int, root: str, port: int) -> None:
    """One rank: after step 1, rank 1 alone gets SIGTERM; what each rank's check returns and prints, to rank<r>.json."""
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                                         timeout=timedelta(seconds=60))
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), StopRules(None, None, None, DistInfo(rank, 2, rank, True),
                                                         torch.device("cpu")) as rules:
            if rank == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            reason = rules.decide(rules.after_step(1, time.monotonic()), None, 1)
    finally:
        torch.distributed.destroy_process_group()
    (Path(root) / f"rank{rank}.json").write_text(json.dumps({"reason": reason, "said": said.getvalue()}))


def test_a_signal_to_one_rank_stops_every_rank_naming_it_and_rank_zero_says_it(tmp_path):
    torch.multiprocessing.spawn(rank_main, args=(str(tmp_path), free_port()), nprocs=2)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks == [
        {"reason": "SIGTERM", "said": "SIGTERM (sent to another rank): stopping at step 1 and saving a checkpoint\n"},
        {"reason": "SIGTERM", "said": ""}]


def test_a_job_of_one_process_decides_alone_without_a_collective():
    """torchrun's job of one joins a process group of one: its checks run no collective (no group exists here, so
    one would raise), and keep their own reason and failure."""
    assert not torch.distributed.is_initialized()
    rules = StopRules(2, None, None, DistInfo(0, 1, 0, in_group=True), torch.device("cpu"))
    assert [rules.decide(rules.after_step(step, time.monotonic()), None, step) for step in (1, 2)] == ["", "max_steps"]
    assert rules.decide("max_steps", Failure("a.wav", "gone"), 2) == "max_steps"  # a stop: the batch is not trained
    with pytest.raises(ClipLoadError, match=r"^a\.wav: gone$"):
        rules.decide("", Failure("a.wav", "gone"), 1)


def test_only_an_announcing_handler_says_it_got_a_signal(capsys):
    for announce, said in ((True, "\nSIGTERM: stopping after this step and saving a checkpoint (Ctrl-C again to "
                                  "abort without saving)\n"), (False, "")):
        with StopOnSignal(announce=announce) as stopper:
            os.kill(os.getpid(), signal.SIGTERM)
        assert (stopper.signum, capsys.readouterr().err) == (signal.SIGTERM, said)
