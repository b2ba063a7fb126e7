"""What a run carries between its parts: the random number generators through a checkpoint (for parts that draw
from them, e.g. dropout), and the steps-per-second reading it logs."""

from __future__ import annotations

import io
import random

import numpy as np
import torch

from hifigan.training.reporting import StepRate
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
