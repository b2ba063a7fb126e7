"""Training data, in parts: corpus.py (which files: a folder or official file lists, the validation split),
clip_scan.py (an up-front read of every file: usable clips, skipped and suspicious ones), mel_frames.py
(teacher-forced mels' frame counts against their audio), dataset.py (the official
preprocessing and random segments), sampler.py (the per-rank order that can resume part-way into an epoch).

Every random choice comes from (seed, epoch, clip index), so the data are identical for any number of workers and
after a resume.
"""
