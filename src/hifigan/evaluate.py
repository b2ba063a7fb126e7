"""The import path README documented before evaluation/ existed: `evaluate_pairs` lives in
hifigan.evaluation.evaluate, `aggregate` in hifigan.evaluation.results."""

from hifigan.evaluation.evaluate import evaluate_pairs
from hifigan.evaluation.results import aggregate

__all__ = ["aggregate", "evaluate_pairs"]
