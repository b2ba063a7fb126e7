"""The stop rules of a run (training.stop_rules): a signal stops every rank of a job at the same step, each naming
the signal, which the job says once (rank 0), whichever rank got it, the ranks agreeing through `largest`; a
DataLoader worker's death on one rank stops every rank with its line and exit code; a job of one process decides
alone; each limit at its exact value; a resume at an epoch's end (an older checkpoint)
ends that epoch before a limit is checked; rank 0 holds SIGTERM for an error every rank met until it is released.
The cross-rank checks share one group of two gloo processes (no model) started by fork_ranks."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import time
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from hifigan.audio import find_audio
from hifigan.data.carried import ClipLoadError, Failure
from hifigan.errors import HifiganError
from hifigan.training.data_parallel import DistInfo, RunData, largest, release_sigterm, reported_once
from hifigan.training.state import new_state
from hifigan.training.stop_rules import StopRules
from hifigan.training.stop_signal import StopOnSignal
from hifigan.training.worker_deaths import WorkerDied, lost
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config
from tests.support.torchrun import fork_ranks, free_port


def rank_main(rank: int, root: str, port: int) -> None:
    """One rank of the group the cross-rank tests below share, each part's results to rank<r>.json:
    "stop": after step 1, rank 1 alone gets SIGTERM; what each rank's check returns and prints;
    "largest": `largest` of values that differ by rank;
    "held": an error both ranks met, reported once; what rank 0's SIGTERM does while held and once released (its
    own handler, set before), and which error each rank got;
    "died": rank 1 alone lost a worker (its next batch a WorkerLost): what each rank raises, as reported_once gives
    it."""
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                                         timeout=timedelta(seconds=60))
    dist, cpu, said = DistInfo(rank, 2, rank, True), torch.device("cpu"), io.StringIO()
    got: list[int] = []
    try:
        with contextlib.redirect_stderr(said), StopRules(None, None, None, dist, cpu, cli=True) as rules:
            if rank == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            reason = rules.decide(rules.after_step(1, time.monotonic()), None, 1)
            try:
                rules.decide("", lost(4242, -signal.SIGKILL, 2, rank) if rank == 1 else None, 2)
            except WorkerDied as e:
                died = e
        most = largest([rank == 0, rank == 1, 0, 5 - 3 * rank], dist, cpu)
        signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
        error = reported_once(HifiganError("a.wav", "gone"), dist)
        died = reported_once(died, dist)
    finally:
        torch.distributed.destroy_process_group()
    os.kill(os.getpid(), signal.SIGTERM)  # held on rank 0: ignored
    held = signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    release_sigterm()
    os.kill(os.getpid(), signal.SIGTERM)
    (Path(root) / f"rank{rank}.json").write_text(json.dumps({
        "stop": {"reason": reason, "said": said.getvalue()}, "largest": most,
        "held": {"error": type(error).__name__, "held": held, "got": got},
        "died": [type(died).__name__, str(died), died.exit_code]}))


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> list[dict]:
    """Each rank's results from one run of rank_main (two gloo processes: fork_ranks)."""
    root = tmp_path_factory.mktemp("stop_group")
    fork_ranks(rank_main, str(root), free_port())
    return [json.loads((root / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_a_signal_to_one_rank_stops_every_rank_naming_it_and_rank_zero_says_it(group):
    assert [r["stop"] for r in group] == [
        {"reason": "SIGTERM", "said": "SIGTERM (sent to another rank): stopping at step 1 and saving a checkpoint\n"},
        {"reason": "SIGTERM", "said": ""}]


def test_ranks_agree_to_stop_when_any_one_says_so(group):
    """A time limit or a signal can reach one rank only: `largest` all-reduces each value with MAX, so every rank
    stops."""
    assert [r["largest"] for r in group] == [[1, 1, 0, 5]] * 2


def test_a_worker_death_on_one_rank_stops_every_rank_with_its_line_and_exit_code(group):
    """Agreed in the step's collective as a clip gone is: every rank raises it, rank 0 to say it, the others silent
    (ReportedElsewhere) but with its exit code, 3, so that torchrun's summary shows one cause on every rank."""
    line = "DataLoader worker (pid 4242 of rank 1) was killed by SIGKILL"
    assert [r["died"] for r in group] == [["WorkerDied", line, 3], ["ReportedElsewhere", line, 3]]


def test_rank_zero_holds_sigterm_for_a_shared_error_until_released(group):
    """Rank 0 ignores SIGTERM from the shared error on (torchrun's, once another rank ends, would kill it before it
    prints the error) until release_sigterm gives back the handler it had; the other rank never holds it."""
    assert [r["held"] for r in group] == [{"error": "HifiganError", "held": True, "got": [signal.SIGTERM]},
                                          {"error": "ReportedElsewhere", "held": False,
                                           "got": [signal.SIGTERM, signal.SIGTERM]}]


def test_a_job_of_one_process_decides_alone_without_a_collective():
    """torchrun's job of one joins a process group of one: its checks run no collective (no group exists here, so
    one would raise), and keep their own reason and failure."""
    assert not torch.distributed.is_initialized()
    rules = StopRules(2, None, None, DistInfo(0, 1, 0, in_group=True), torch.device("cpu"), cli=True)
    assert [rules.decide(rules.after_step(step, time.monotonic()), None, step) for step in (1, 2)] == ["", "max_steps"]
    assert rules.decide("max_steps", Failure("a.wav", "gone"), 2) == "max_steps"  # a stop: the batch is not trained
    with pytest.raises(ClipLoadError, match=r"^a\.wav: gone$"):
        rules.decide("", Failure("a.wav", "gone"), 1)
    death = lost(7, -signal.SIGKILL, 2, None)
    assert rules.decide("max_steps", death, 2) == "max_steps"
    with pytest.raises(WorkerDied, match=r"^DataLoader worker \(pid 7\) was killed by SIGKILL$"):
        rules.decide("", death, 1)


def test_only_an_announcing_handler_says_it_got_a_signal(capsys):
    for announce, said in ((True, "\nSIGTERM: stopping after this step and saving a checkpoint (Ctrl-C again to "
                                  "abort without saving)\n"), (False, "")):
        with StopOnSignal(announce=announce) as stopper:
            os.kill(os.getpid(), signal.SIGTERM)
        assert (stopper.signum, capsys.readouterr().err) == (signal.SIGTERM, said)


def test_a_process_forked_inside_the_block_neither_says_nor_acts_on_a_signal(capfd):
    """A terminal's Ctrl-C reaches the whole process group, DataLoader workers included, and a worker forked while
    the block runs holds the handler until its worker_init_fn ignores SIGINT: there it must not say the stop line
    again, nor abort on a second Ctrl-C."""
    with StopOnSignal() as stopper:
        child = os.fork()
        if child == 0:  # pragma: no cover - the forked child
            code = 3
            try:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
                code = 0 if stopper.signum is None else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
    assert (os.waitstatus_to_exitcode(status), stopper.signum, capfd.readouterr().err) == (0, None, "")


LONE = DistInfo()  # one process: the checks are this process's own


def rules(max_steps=None, epochs=None, max_minutes=None) -> StopRules:
    return StopRules(max_steps, epochs, max_minutes, LONE, torch.device("cpu"), cli=True)


def test_each_limit_stops_at_exactly_its_value():
    """--max-steps 3 stops after step 3 and before an epoch at step 3 (a resume of a finished run trains nothing);
    --epochs 2 stops before epoch 2; --max-steps 1 warns of a run at step 2, not at step 1."""
    begun = time.monotonic()
    assert [rules(max_steps=3).after_step(s, begun) for s in (2, 3)] == ["", "max_steps"]
    assert [rules(max_steps=3).before_epoch(s, 0) for s in (2, 3)] == ["", "max_steps"]
    assert [rules(epochs=2).before_epoch(0, e) for e in (1, 2)] == ["", "epochs"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rules(max_steps=1).warn_if_past(1)
    with pytest.warns(UserWarning, match="--max-steps 1: the run is at step 2 already"):
        rules(max_steps=1).warn_if_past(2)


def test_the_time_budget_stops_before_a_step_that_would_overrun_it():
    """A 1-minute budget 40 s spent: a 25 s step would end the next at 90 s, so stop ("time"; at the step limit too,
    "max_steps" is named); after a 5 s step 20 s in, the next ends at 25 s: go on."""
    limits = rules(max_steps=3, max_minutes=1.0)
    now = time.monotonic()
    limits.started = now - 40
    assert (limits.after_step(2, now - 25), limits.after_step(3, now - 25)) == ("time", "max_steps")
    limits.started = now - 20
    assert limits.after_step(2, now - 5) == ""


def test_a_signal_after_a_limit_is_the_reason_named():
    with rules(max_steps=3) as limits:
        os.kill(os.getpid(), signal.SIGTERM)
    assert (limits.final("max_steps"), rules(max_steps=3).final("max_steps")) == ("SIGTERM", "max_steps")


def test_a_resume_at_an_epochs_end_ends_that_epoch_before_the_budget_stops_it(tiny_corpus):
    """An older checkpoint saved at an epoch's end (batch 4 of 4, the epoch not yet ended) with the time budget
    spent: nothing trains, and the position stopped at is the next epoch's start, the rates decayed once."""
    cfg = tiny_config(batch_size=2)
    clips = quiet_scan(find_audio(tiny_corpus), cfg).clips
    data = RunData(cfg, clips, clips[:1], LONE, torch.device("cpu"), cli=True)
    state = new_state(cfg, torch.device("cpu"))
    state.batch_in_epoch = data.sampler.num_samples // cfg.batch_size
    assert state.batch_in_epoch == 4
    limits = rules(max_minutes=0.0)
    assert (list(limits.batches(data, state)), limits.reason) == ([], "time")
    assert (state.epoch, state.batch_in_epoch) == (1, 0)
    for optim in (state.optim_g, state.optim_d):
        assert optim.param_groups[0]["lr"] == pytest.approx(cfg.learning_rate * cfg.lr_decay, rel=1e-12)
