"""The library of `hifigan demo` (the command: cli/demo.py): the run, its clips vocoded and scored, its tables."""

VALID_COUNT_WHY = " (the clips the demo vocodes)"  # why --valid-count is 1 or more, not train's 0
