"""Evaluation: objective metrics against the recordings, their reports, and listening tests.

metrics (the set and `compute_metrics`) over spectral, perceptual and pitch; pairing (files by stem, lengths,
delay); evaluate (`evaluate_pairs`, `hifigan evaluate`); results (`Report`, `aggregate`); output (JSON + PNG);
provenance (what a report records of how its files were stored, and the packages' versions); confidence (mean and
95% CI, shared with the listening test); report/ (the `--html` page); listening/ (`hifigan listen`).
Nothing is imported here, so the listening server's light modules load without torch.
"""
