"""The library of `hifigan demo` (the command: cli/demo.py): the run, its clips vocoded and scored, its tables."""
