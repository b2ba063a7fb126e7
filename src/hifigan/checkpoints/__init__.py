"""Checkpoints, ours and the official ones (jik876/hifi-gan g_* / do_*), in one place, one idea per module;
docs/design.md's package layout says what each one owns (a test keeps that list whole). Where to start reading:
contents.py (what a file is, ours or official, and what it holds in our keys; `load_generator`), format.py (our file
format), official.py (the official dicts <-> ours), run_files.py (a training run's files).

Nothing is imported here: importing one module loads only what that module needs.
"""
