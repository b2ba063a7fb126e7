"""A run's settings checked before its corpus is scanned (minutes on a large one) or a model is built: the device
and precision, --cuda-graph where a captured step can run, the training segment against the mel front-end, and
every part the config names built on the meta device (its values, the objective's rules). Each check lives with
what it checks; this module only calls them, for `train` (training.job) before the scan and for the Trainer first,
so a Trainer built in Python refuses the same settings in the same lines."""

from __future__ import annotations

import torch

from hifigan.config import HifiganConfig
from hifigan.training.data_parallel import DistInfo, training_device
from hifigan.training.graphed import check_graph_place
from hifigan.training.options import TrainOptions
from hifigan.training.registry import check_parts, check_segment_size
from hifigan.training.step import check_precision

CONFIG_CHECKS = (check_segment_size, check_parts)  # the config's own checks, in order; each can be made alone


def check_place(options: TrainOptions, dist: DistInfo, cli: bool) -> torch.device:
    """The training device `options` name, with the precision checked on it: `train` checks these first, before it
    reads a checkpoint or a config (one-line errors named as `cli` says: option_names)."""
    device = training_device(options.device, dist, cli)
    check_precision(options.precision, device, cli)
    return device


def check_settings(config: HifiganConfig, options: TrainOptions, device: torch.device, dist: DistInfo,
                   cli: bool) -> None:
    """Every other setting of the run on its `device` (check_place's): --cuda-graph, the segment, the parts."""
    if options.cuda_graph:  # None (the default) falls back to eager where a graph cannot run
        check_graph_place(device, dist.active, cli)
    for check in CONFIG_CHECKS:
        check(config)
