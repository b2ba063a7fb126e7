"""What a run carries between its parts: the random number generators through a checkpoint (for parts that draw
from them, e.g. dropout), the steps-per-second reading it logs, and its log across a resume."""

from __future__ import annotations

import io
import json
import random
import time

import numpy as np
import torch

from hifigan.training.reporting import RunLog, StepRate
from hifigan.training.state import rng_state, set_rng_state


def draws() -> tuple:
    return torch.rand(4), np.random.rand(4), random.random(), np.random.randn()  # randn: numpy's cached gauss too


def test_the_rng_states_survive_a_checkpoint_and_come_back():
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    np.random.randn()  # leaves a cached Gaussian in numpy's state
    buffer = io.BytesIO()
    torch.save({"rng": rng_state()}, buffer)
    expected = draws()
    draws()  # the run goes on
    buffer.seek(0)
    set_rng_state(torch.load(buffer, weights_only=True)["rng"])
    got = draws()
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert got[2:] == expected[2:]


def test_steps_per_second_is_the_steps_since_the_last_reading_over_the_time():
    ticks = iter([10.0, 12.0, 12.5, 12.5])
    rate = StepRate(100, clock=lambda: next(ticks))
    assert rate.read(104) == 2.0  # 4 steps in 2 s
    assert rate.read(105) == 2.0  # 1 step in 0.5 s, from the previous reading
    assert rate.read(105) == 0.0  # none, in no time: no division by zero


def test_steps_per_second_leaves_out_the_validation_and_checkpoint_time():
    """Time in paused() blocks (the trainer's validations and saves) is not training time: a reading after a
    validation read 4 steps over 1 s of steps and 7 s of validation as 0.5 steps/s, not 4."""
    ticks = iter([0.0, 1.0, 8.0, 8.0, 9.0, 9.5, 10.0])
    rate = StepRate(0, clock=lambda: next(ticks))
    with rate.paused():  # 1.0 -> 8.0
        pass
    assert rate.read(4) == 4.0  # at 8.0: 4 steps in 1 s of steps (0.5 counting the validation)
    with rate.paused():  # 9.0 -> 9.5, after 1 s of steps
        pass
    assert rate.read(8) == 4 / 1.5  # at 10.0: 2 s since, 0.5 s paused


def test_a_resumed_run_logs_each_step_once_in_the_jsonl_and_in_tensorboard(tmp_path):
    """A run checkpointed at step 3 logged steps 4 and 5 and was killed writing step 6; resumed from step 3, what
    it logged after its checkpoint is dropped (JSONL and TensorBoard alike), what it logged up to it is kept."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    first = RunLog(tmp_path, 0)
    for step in range(1, 6):
        first.scalars(step, {"g/total": float(step)}, epoch=0)
    first.event(3, "checkpoint", "ckpt_00000003.pt")
    first.event(5, "nonfinite", "step 5: loss is nan")
    first.close()
    with open(tmp_path / "log.jsonl", "a") as log:
        log.write('{"step": 6, "g/to')  # the half-written last line of a killed run
    # A resumed run is a later process: its events file is named from a later second. Within one second TensorBoard
    # orders the files by a per-process counter as text (".10" before ".9"), which this process's earlier tests set.
    time.sleep(1.01 - time.time() % 1)
    resumed = RunLog(tmp_path, 3)
    for step in (4, 5):
        resumed.scalars(step, {"g/total": 10.0 * step}, epoch=0)
    resumed.close()
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["step"], r.get("g/total", r.get("event"))) for r in records] == [
        (1, 1.0), (2, 2.0), (3, 3.0), (3, "checkpoint"), (4, 40.0), (5, 50.0)]
    events = EventAccumulator(str(tmp_path / "logs")).Reload()
    assert [(e.step, e.value) for e in events.Scalars("g/total")] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 40.0),
                                                                       (5, 50.0)]


def test_validation_leaves_torchs_global_rng_as_it_was(tmp_path, tiny_corpus, tiny_cfg):
    """A run validates when it stops, wherever --validation-interval fell, and its checkpoint then holds the RNG
    states: a pass that drew from torch's global RNG (the generator copy it vocodes with was randomly initialised
    first) left a resumed run's RNG unlike a straight run's, which docs/training.md says it is."""
    from hifigan import Trainer, TrainOptions
    from hifigan.data.clip_scan import scan_clips
    from hifigan.data.corpus import find_audio

    clips = scan_clips(find_audio(tiny_corpus), tiny_cfg, cli=True).clips
    trainer = Trainer(tiny_cfg, clips[2:], clips[:2], TrainOptions(out=tmp_path / "run", progress=False))
    torch.manual_seed(5)
    before = torch.get_rng_state()
    for _ in range(2):  # the first pass builds the validation vocoder, later ones reload or rebuild it
        trainer.validate()
        assert torch.equal(torch.get_rng_state(), before)


def test_the_progress_bar_shows_the_losses_of_the_step_it_counts():
    """Each redraw of the bar names a step count and losses: those of that step, not of the step before (the bar
    was drawn by its update before the new losses were set, so `3/4` showed step 2's)."""
    from tqdm import tqdm

    from hifigan.training.reporting import show_step

    out = io.StringIO()
    bar = tqdm(total=4, file=out, mininterval=0, miniters=1, ncols=200)
    for step in range(1, 5):
        show_step(bar, {"g/total": 100.0 + step, "g/mel_l1": step / 10, "d/total": 7.0 + step})
    drawn = [line for line in out.getvalue().split("\r") if "/4 [" in line]
    for step in range(1, 5):
        line = next(line for line in drawn if f" {step}/4 [" in line)
        assert f"g/total={100 + step}.000, g/mel_l1={step / 10:.3f}, d/total={7 + step}.000" in line, line
