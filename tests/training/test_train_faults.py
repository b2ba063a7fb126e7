"""Training faults with real processes: SIGKILL during a checkpoint save, SIGTERM/SIGINT, bad files in the data, a
DataLoader worker killed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.checkpoints.run_files import checkpoint_files

FAST = ["--no-progress", "--valid-count", "2", "--disc-start-step", "1000000", "--validation-interval", "0",
        "--log-interval", "1"]


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    """Training runs hold checkpoints: drop them after use."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def start_training(args: list[str], folder: Path, session: bool = False) -> subprocess.Popen:
    """`hifigan train args` (in a process group of its own where `session`: a signal to the group reaches its
    DataLoader workers too)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "hifigan", "train", *args], env=env, start_new_session=session,
                            stdout=open(folder / "stdout.txt", "w"), stderr=open(folder / "stderr.txt", "w"))


def wait_for(condition, proc: subprocess.Popen, timeout: float = 90, poll: float = 0.002):
    """Poll until condition() is truthy; fail (killing proc) if the process ends or time runs out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"training exited early ({proc.returncode})")
        time.sleep(poll)
    proc.kill()
    pytest.fail("timed out waiting for the training process")


def logged_steps(run: Path) -> list[int]:
    log = run / "log.jsonl"
    if not log.exists():
        return []
    return [json.loads(line)["step"] for line in log.read_text().splitlines() if '"g/total"' in line]


def test_sigkill_during_save_then_resume_then_sigterm(tmp_path, tiny_corpus, tiny_config_json):
    """SIGKILL mid-save loses nothing; the resumed run, with DataLoader workers, gets SIGTERM as systemd's stop,
    SLURM's scancel or `kill -TERM -- -PGID` send it, to the whole process group, the workers too (forked once, at
    its first step): it finishes its step, saves and exits 0, without a traceback. A worker that died of that SIGTERM
    (training.worker_signals missing) no longer costs the save (the run stops as the signal asks:
    training.worker_deaths), and fails it only where the run sees the death before it ends (its warning; a busy
    worker dies a little later): that workers outlive a SIGTERM from another process, that the parent's own
    terminate() still ends them, and a worker whose parent was killed, is for test_worker_signals."""
    run = tmp_path / "run"
    ckpts = run / "checkpoints"
    base = ["--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *FAST, "--checkpoint-interval", "1",
            "--keep", "2"]
    proc = start_training([*base, "--out", str(run), "--max-steps", "1000"], tmp_path)

    def saving_after_one_complete():  # a temp file being written while an earlier checkpoint exists
        return checkpoint_files(ckpts) and list(ckpts.glob(".ckpt_*.tmp"))

    wait_for(lambda: checkpoint_files(ckpts), proc, poll=0.05)  # the process's start, at an unhurried poll
    partial = wait_for(saving_after_one_complete, proc)  # a save's temporary file lasts milliseconds: a fast poll
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert partial[0].exists(), "killed while the temporary file was on disk"
    complete = checkpoint_files(ckpts)
    assert 1 <= len(complete) <= 2, "--keep 2"
    for path in [*complete, ckpts / "latest.pt"]:
        assert read_checkpoint(path)["step"] >= 1
    last = read_checkpoint(complete[-1])["step"]

    proc = start_training([*base, "--resume", str(run), "--max-steps", "1000", "--num-workers", "2"], tmp_path,
                          session=True)
    wait_for(lambda: any(s > last + 1 for s in logged_steps(run)), proc, poll=0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its workers too: none left behind
        pytest.fail("training still ran 60 s after the process group's SIGTERM (its group now killed)")
    stderr = (tmp_path / "stderr.txt").read_text()
    assert code == 0, f"no save after the process group's SIGTERM (exit {code}): {stderr.splitlines()[-1:]}"
    assert f"resumed from {complete[-1]} at step {last}" in stderr and "SIGTERM: stopping after this step" in stderr
    assert "Traceback" not in stderr and "error" not in stderr, stderr
    assert "DataLoader worker" not in stderr, [line for line in stderr.splitlines() if "DataLoader worker" in line]
    final = read_checkpoint(ckpts / "latest.pt")
    assert final["step"] == max(logged_steps(run)) > last
    assert logged_steps(run) == list(range(1, final["step"] + 1)), "each step logged once, across the kill"
    assert not list(ckpts.glob(".*.tmp")), "the stale temporary file was cleaned up"


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a run's DataLoader workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:  # ended meanwhile
            pass
    return sorted(found)


def test_a_worker_killed_during_a_save_stops_the_run_after_that_save_with_one_line(tmp_path, tiny_corpus,
                                                                                   tiny_config_json):
    """The out-of-memory killer's SIGKILL takes a DataLoader worker as a checkpoint is being written (sent while the
    save's temporary file is on disk, it lands in that save or just after): the run stops after the step it reached,
    saved whole, with one line that names the worker, its signal and what to resume with (exit 3); each step is logged
    once. Left to torch's SIGCHLD handler the run ended either way differently: the save failed with the worker's
    death as its reason ("cannot write (DataLoader worker ... is killed by signal: Killed.)", exit 2), or an internal
    error ("DataLoader worker (pid(s) N) exited unexpectedly", exit 1), nothing saved."""
    run, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    base = ["--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *FAST, "--checkpoint-interval", "1",
            "--keep", "2"]
    proc = start_training([*base, "--out", str(run), "--max-steps", "1000", "--num-workers", "2"], tmp_path,
                          session=True)
    try:
        wait_for(lambda: checkpoint_files(ckpts), proc, poll=0.05)  # the workers run from the first step on
        workers = children(proc.pid)
        assert len(workers) == 2
        wait_for(lambda: list(ckpts.glob(".ckpt_*.tmp")), proc)  # a save's temporary file lasts milliseconds
        os.kill(workers[0], signal.SIGKILL)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stderr = (tmp_path / "stderr.txt").read_text()
    last = max(logged_steps(run))
    assert code == 3, f"exit {code}: {stderr.splitlines()[-1:]}"
    assert stderr.splitlines()[-1] == (
        f"hifigan train: error: DataLoader worker (pid {workers[0]}) was killed by SIGKILL (often the out-of-memory "
        f"killer; checkpoint {ckpts / f'ckpt_{last:08d}.pt'} holds step {last}: --resume {run} with fewer workers, "
        "--num-workers 1)")
    assert "Traceback" not in stderr and "cannot write" not in stderr
    assert logged_steps(run) == list(range(1, last + 1)), "each step logged once, the last one too"
    assert [read_checkpoint(path)["step"] for path in checkpoint_files(ckpts)] == [last - 1, last]
    assert read_checkpoint(ckpts / "latest.pt")["step"] == last and not list(ckpts.glob(".*.tmp"))
    assert children(proc.pid) == [], "the other worker ended with the run"


def test_sigint_saves_and_exits_cleanly_and_bad_files_are_skipped(tmp_path, tiny_corpus, tiny_config_json):
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    (corpus / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    (corpus / "empty.wav").write_bytes(b"")
    run = tmp_path / "run"
    proc = start_training(["--corpus", str(corpus), "--config", str(tiny_config_json), *FAST, "--out", str(run),
                           "--checkpoint-interval", "100000"], tmp_path)
    wait_for(lambda: len(logged_steps(run)) >= 2, proc, poll=0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    stderr = (tmp_path / "stderr.txt").read_text()
    # the two bad files are counted in the set the held-out hash puts them in (here one in each)
    warned = re.findall(r"(training|validation) set: skipped (\d+) unreadable or empty files?\b", stderr)
    summed = re.findall(r"(\d+) unreadable or empty skipped", stderr)
    assert sum(int(n) for _, n in warned) == sum(int(n) for n in summed) == 2
    assert "SIGINT: stopping after this step" in stderr and "stopped (SIGINT)" in stderr
    saved = read_checkpoint(run / "checkpoints" / "latest.pt")
    assert saved["step"] == max(logged_steps(run))


def test_second_ctrl_c_aborts_without_saving(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """The first Ctrl-C asks for a clean stop (finish the step, validate, save); a second one, sent while that
    is under way, aborts at once: exit 130, one line, and no checkpoint or temporary file. The folder then holds
    that run's logs and no checkpoint: a new run there is refused in one line (it would log step 1 again after that
    run's steps), and nothing in the folder changes."""
    run = tmp_path / "run"
    proc = start_training(["--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--no-progress",
                           "--valid-count", "2", "--log-interval", "1", "--disc-start-step", "0",
                           "--checkpoint-interval", "100000", "--validation-interval", "100000", "--out", str(run)],
                          tmp_path)
    wait_for(lambda: logged_steps(run), proc, poll=0.05)
    proc.send_signal(signal.SIGINT)
    wait_for(lambda: "SIGINT: stopping" in (tmp_path / "stderr.txt").read_text(), proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    stderr = (tmp_path / "stderr.txt").read_text()
    assert stderr.rstrip().endswith("hifigan train: interrupted") and "Traceback" not in stderr
    assert not (run / "checkpoints").exists()  # no checkpoint nor temporary file: the empty folder made for them goes

    from hifigan.cli import main

    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert logged_steps(run) and any((run / "logs").iterdir())
    capsys.readouterr()
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *FAST, "--out", str(run),
                 "--max-steps", "1"])
    assert code == 2 and capsys.readouterr().err.strip() == (
        f"hifigan train: error: {run}: holds an earlier run's logs (log.jsonl and logs/) but no checkpoint: a new run "
        "would log its steps after that run's; move them away, or give a new --out")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before

