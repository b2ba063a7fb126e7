"""Marks shared by test modules."""

import pytest

# Tests whose process tree peaks at 2-4 GB (official-size discriminators with their AdamW moments, V1-size models, two
# training processes side by side). Under `make test` (2 pytest-xdist workers, --dist loadgroup) they all run on one
# worker, one at a time, so two of them never add up (measured: 6.07 GB for the 2 workers and their children when
# the --init-from export test met the DDP test's spawned ranks; the suite's bound is 6 GB in all).
LARGE_MEMORY = pytest.mark.xdist_group("large-memory")
