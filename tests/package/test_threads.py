"""hifigan.runtime.threads: one_thread holds every native pool (BLAS, OpenMP) to one thread as well as torch's intra-op
count, and gives the caller's counts back after."""

from __future__ import annotations

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from hifigan.runtime.threads import intra_op_threads, one_thread


def test_one_thread_holds_the_native_pools_and_torch_to_one_and_restores_them():
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS loaded
    with threadpool_limits(limits=2), intra_op_threads(2):
        assert threadpool_info() and {pool["num_threads"] for pool in threadpool_info()} == {2}
        with one_thread():
            assert {pool["num_threads"] for pool in threadpool_info()} == {1}
            assert torch.get_num_threads() == 1
        assert {pool["num_threads"] for pool in threadpool_info()} == {2}
        assert torch.get_num_threads() == 2


def test_a_count_below_one_runs_on_one_thread():
    with intra_op_threads(2):
        with intra_op_threads(0):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
