"""Training data, one idea per module; docs/design.md's package layout says what each one owns (a test keeps that
list whole). Where to start reading: corpus.py (which files: a folder or official file lists, the validation split),
clip_scan.py (the up-front read of every file), dataset.py (the official preprocessing and random segments),
sampler.py (the per-rank order that can resume part-way into an epoch).

Every random choice comes from (seed, epoch, clip index), so the data are identical for any number of workers and
after a resume.
"""
