"""Evaluation: objective metrics against the recordings, their reports, and listening tests. One idea per module;
docs/design.md's package layout says what each one owns (a test keeps that list whole). Where to start reading:
evaluate.py (`evaluate_pairs`, the library behind `hifigan evaluate`), metrics.py (the set and `compute_metrics`),
results.py (`Report`, `aggregate`); report/ is the `--html` page, listening/ `hifigan listen`.

Nothing is imported here, so the listening server's light modules load without torch.
"""
