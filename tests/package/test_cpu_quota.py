"""A container's CPU limit (a cgroup quota, which the affinity does not show) bounds every count of CPUs taken (the
worker processes of the scan, mel and evaluate, the compute threads): cgroup v2's cpu.max and v1's cfs files, read
from a folder laid out as /sys/fs/cgroup is."""

from __future__ import annotations

import os

import pytest
import torch

from hifigan.data.scan_pool import read_files
from hifigan.runtime import cpus
from hifigan.runtime.cpus import cpu_quota, usable_cpus
from hifigan.runtime.threads import quota_threads
from tests.support.threads import threads


def _v2(root, text: str):
    (root / "cpu.max").write_text(text)
    return root


def _v1(root, quota: int, period: int = 100000):
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


@pytest.mark.parametrize(("files", "quota"), [
    (lambda root: _v2(root, "200000 100000\n"), 2.0),  # Kubernetes' `limits: {cpu: "2"}`
    (lambda root: _v2(root, "150000 100000\n"), 1.5),
    (lambda root: _v2(root, "max 100000\n"), None),  # no limit
    (lambda root: _v1(root, 50000), 0.5),
    (lambda root: _v1(root, -1), None),  # v1's "no limit"
    (lambda root: _v2(root, "garbage\n"), None),
    (lambda root: root, None),  # no cgroup files at all (not Linux, or not mounted)
])
def test_the_quota_is_read_from_either_cgroup_version(tmp_path, files, quota):
    assert cpu_quota(files(tmp_path)) == quota


AFFINITY = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def test_usable_cpus_stay_within_the_quota(tmp_path):
    """Rounded down, at least 1, never more than the affinity allows; no quota: the affinity's count."""
    assert usable_cpus(tmp_path) == AFFINITY
    for quota, count in (("50000", 1), ("150000", 1), ("100000", 1), ("0", 1),
                         (str(100000 * (AFFINITY + 8)), AFFINITY)):
        assert usable_cpus(_v2(tmp_path, f"{quota} 100000")) == count, quota
    if AFFINITY >= 2:
        assert usable_cpus(_v2(tmp_path, "250000 100000")) == 2


def _pid(name: str, settings: None) -> int:
    return os.getpid()


@pytest.mark.skipif(AFFINITY < 2, reason="needs two CPUs, for workers the quota then stops")
def test_the_scans_workers_follow_the_quota(tmp_path, monkeypatch):
    """The scan's pool (train's scan, mel's and evaluate's workers), where no count is given: one process per CPU it
    may run on, and none under a quota of one CPU (this process reads every file), 1.5 CPUs included."""
    names = [str(i) for i in range(300)]
    monkeypatch.setattr(cpus, "CGROUP", tmp_path)
    assert {p for _, p in read_files(names, None, _pid, None, False)} - {os.getpid()}, "workers, with no quota"
    _v2(tmp_path, "150000 100000\n")
    assert {p for _, p in read_files(names, None, _pid, None, False)} == {os.getpid()}


def test_torchs_default_threads_follow_the_quota(tmp_path, monkeypatch):
    """--threads not given: the quota's whole CPUs where fewer than torch's count, else torch's own (None)."""
    monkeypatch.setattr(cpus, "CGROUP", tmp_path)
    with threads(2):
        assert quota_threads() == (None if AFFINITY >= 2 else 1)
        _v2(tmp_path, "100000 100000\n")
        assert quota_threads() == 1
        assert torch.get_num_threads() == 2, "read, not set"
    with threads(1):
        assert quota_threads() is None
