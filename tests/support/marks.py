"""Marks shared by test modules."""

import pytest

# Tests whose process tree peaks at 1.3-3.6 GB (official-size discriminators with their AdamW moments, V1-size training
# two training processes side by side). `make test` runs them after the rest, in one process of their own and one at
# a time, while the rest runs on 2 pytest-xdist workers: two of them side by side (or one beside a worker holding an
# earlier test's 1-2.6 GB) took the suite past its 6 GB bound (measured: 6.07-7.25 GB for the workers and children).
LARGE_MEMORY = pytest.mark.large_memory
