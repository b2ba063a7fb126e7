"""Marks shared by test modules."""

import pytest

# Tests whose process peaks at 2-4 GB (official-size discriminators with their AdamW moments, V1-size models). Under
# `make test` (2 pytest-xdist workers, --dist loadgroup) they all run on one worker, one at a time, so the two
# workers' peaks never add up to two of them (the suite's bound is 6 GB in all).
LARGE_MEMORY = pytest.mark.xdist_group("large-memory")
