"""The import path README documented before evaluation/ existed: `compute_metrics` lives in
hifigan.evaluation.metrics."""

from hifigan.evaluation.metrics import compute_metrics

__all__ = ["compute_metrics"]
