"""A container's CPU limit (a cgroup quota, which the affinity does not show) bounds the compute threads: cgroup v2's
cpu.max and v1's cfs files, read from a folder laid out as /sys/fs/cgroup is."""

from __future__ import annotations

import pytest

from hifigan.runtime.cpus import compute_cpus, cpu_quota, usable_cpus


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


def test_compute_threads_stay_within_the_quota(tmp_path):
    """Rounded down, at least 1, never more than the affinity allows; no quota: the affinity's count."""
    cpus = usable_cpus()
    assert compute_cpus(tmp_path) == cpus
    for quota, threads in (("50000", 1), ("150000", 1), ("100000", 1), (str(100000 * (cpus + 8)), cpus)):
        assert compute_cpus(_v2(tmp_path, f"{quota} 100000")) == threads, quota
