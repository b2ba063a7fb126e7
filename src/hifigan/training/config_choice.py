"""Which config a training run starts in, and where it came from, decided once (choose_config): the resumed
checkpoint's; a model's that carries one (a pretrained name, a checkpoint of ours) with --config laid over it; the
job's alone for an official g_* file or a generator's bare state dict (none given: the official config.json beside a
g_* file, else V1); else --config, else V1. Starting from weights, the run may change their mel's signal settings
(rate, hop, mel, fmax: checkpoints.config_over.SIGNAL_KEYS) and what their shapes do not fix (strides, dilations:
LAYOUT_KEYS), said in one line (signal_line), not their shapes.
training.job builds the run in it, the start lines word it (training.start_lines) and a config error that names no
file names its file."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hifigan import pretrained
from hifigan.checkpoints.config_over import LAYOUT_KEYS, WEIGHT_KEYS, start_changes
from hifigan.checkpoints.contents import CheckpointContents, official_config_beside
from hifigan.checkpoints.format import config_of, read_checkpoint
from hifigan.config import HifiganConfig, load_config
from hifigan.errors import ConfigError, HifiganError
from hifigan.messages.option_names import setting
from hifigan.training.options import TrainJob

DEFAULT = "v1"  # the preset of a job that gives no config and starts from no model that carries one


@dataclass(frozen=True)
class ConfigChoice:
    """The config a run starts in (before the job's overrides) and where it came from. `read_with`: the file or
    preset an official or bare --init-from's weights are read with (a misfit names it: CheckpointContents.named_config),
    else None. `resumed`: the resumed checkpoint's config. `configless`: what --init-from is where it carries no config,
    "an official g_* file" or "a generator's bare state dict" (the config is then the job's alone, not laid over the
    file's); `beside`: the official config.json beside that file, where it was read for want of a config given.
    `file`: the file the config was read from (the resumed checkpoint, the --config file or the config.json beside),
    which a config error that names no file names; None for a preset or a HifiganConfig. `own`: the config the
    --init-from weights were trained in, where known (a pretrained model's, ours, the official config.json beside a
    g_* file given --config), which signal_line compares the run's with."""

    config: HifiganConfig
    read_with: str | os.PathLike | None = None
    resumed: bool = False
    configless: str | None = None
    beside: Path | None = None
    file: Path | None = None
    own: HifiganConfig | None = None


def choose_config(job: TrainJob, resume_obj: dict[str, Any] | None, resume_path: Path | None,
                  init_obj: dict[str, Any] | None) -> ConfigChoice:
    """The run's config (ConfigChoice's rule); `init_obj`: the --init-from file's contents (read_init), read once.
    An official g_* file's config is as the official code built that file from it (its residual blocks' dilations:
    checkpoints.official_blocks); a partial one's rest is V1's."""
    if resume_obj is not None:
        return ConfigChoice(config_of(resume_obj, resume_path), resumed=True, file=resume_path)
    given = _given_file(job)
    if init_obj is not None and pretrained_init(job) is not None:
        model = pretrained.get_model(pretrained_init(job))
        config = pretrained.model_config(model, job.config, job.cli, WEIGHT_KEYS)
        return ConfigChoice(config, file=given, own=model.load_config())
    if init_obj is None:
        return ConfigChoice(load_config(job.config or DEFAULT), file=given)
    contents = CheckpointContents(init_obj, job.init_from)
    contents.require_generator()  # a file holding no generator: refused now, before the scan and the run folder
    config, read_with = contents.named_config(job.config, default=DEFAULT, cli=job.cli, keys=WEIGHT_KEYS)
    if not contents.official:
        return ConfigChoice(config, read_with, file=given, own=config_of(init_obj, job.init_from))
    # No config given, named_config read the one beside the file, or the default where there is none.
    beside = Path(read_with) if job.config is None and read_with != DEFAULT else None
    configless = "a generator's bare state dict" if contents.bare else "an official g_* file"
    own = _config_beside(job) if not contents.bare and job.config is not None else None
    return ConfigChoice(config, read_with, configless=configless, beside=beside, file=given or beside, own=own)


def _config_beside(job: TrainJob) -> HifiganConfig | None:
    """The official config.json beside the --init-from g_* file, the one its weights were trained in; None where
    there is none, or where it cannot be read: it only words signal_line, so that is a warning, not an error."""
    beside = official_config_beside(job.init_from)
    try:
        return None if beside is None else load_config(beside)
    except HifiganError as e:
        warnings.warn(f"{beside}: skipped ({e.problem}): a change of settings from the config the --init-from weights "
                      "were trained in cannot be said", stacklevel=3)
        return None


ADAPTS = {"upsample_rates": "upsampling", "resblock_dilation_sizes": "dilations"}  # what a changed layout key is


def signal_line(job: TrainJob, choice: ConfigChoice, config: HifiganConfig) -> list[str]:
    """One line where the run's `config` takes another mel, upsampling or dilations than the --init-from weights were
    trained with (their config known: ConfigChoice.own): what changed, and that the generator starts from them and
    adapts."""
    changes = {} if choice.own is None or choice.resumed else start_changes(choice.own, config)
    if not changes:
        return []
    start = setting("init_from", job.init_from, job.cli)
    adapts = [ADAPTS[key] for key in LAYOUT_KEYS if key in changes]
    adapts += ["mel"] if set(changes) - set(LAYOUT_KEYS) else []
    what = "settings" if set(changes) & set(LAYOUT_KEYS) else "signal settings"
    return [f"{what} differ from {start}'s: {', '.join(changes.values())}; the generator starts from its weights "
            f"and will adapt to this run's {' and '.join(adapts)}"]


def _given_file(job: TrainJob) -> Path | None:
    """The --config file (None for a preset, a config object or none)."""
    given = job.config
    return Path(given) if isinstance(given, str | os.PathLike) and Path(given).is_file() else None


@contextlib.contextmanager
def naming_config_file(choice: ConfigChoice, file_alone: Sequence[Callable[[], object]] | None = None,
                       job: TrainJob | None = None) -> Iterator[None]:
    """A ConfigError that names no file (a part's name, argument or value) named as the run config's file's, or as
    `job`'s overrides' (overrides_named) where none of `file_alone` (the same checks of the config without the job's
    overrides, each made alone: an earlier one that fails hides no later one) finds that same problem: the value at
    fault is then an override's (--segment-size 16, segment_size=16), not the file's, whatever else the file gets
    wrong."""
    try:
        yield
    except ConfigError as e:
        if e.path is not None:
            raise
        if job is None or _finds(file_alone, e.problem):
            raise ConfigError(choice.file, e.problem) from None
        raise ConfigError(overrides_named(job.overrides(), e.problem, job.cli), e.problem) from None


def overrides_named(overrides: dict[str, Any], problem: str, cli: bool) -> str:
    """The config overrides a problem they caused is said of, as the caller gave them (option_names.setting:
    `--segment-size 16`, or with `cli` False `segment_size=16`): those the problem names, else all of them."""
    named = {k: v for k, v in overrides.items() if re.search(rf"\b{k}\b", problem)} or overrides
    return (" " if cli else ", ").join(setting(k, v, cli) for k, v in named.items())


def _finds(checks: Sequence[Callable[[], object]] | None, problem: str) -> bool:
    """Whether one of `checks` (None: none to make, taken as finding it) refuses with `problem`."""
    return checks is None or any(_refuses(check, problem) for check in checks)


def _refuses(check: Callable[[], object], problem: str) -> bool:
    try:
        check()
    except ConfigError as e:
        return e.problem == problem
    except Exception:
        return False
    return False


def pretrained_init(job: TrainJob) -> str | None:
    """The registered pretrained model `init_from` names, if it names one (a file of that name: ./NAME)."""
    return job.init_from if isinstance(job.init_from, str) and job.init_from in pretrained.MODELS else None


def read_init(job: TrainJob) -> dict[str, Any]:
    """The --init-from weights: a pretrained model's verified file, or the checkpoint file's contents."""
    name = pretrained_init(job)
    if name is not None:
        return pretrained.read_pretrained(name)[2]
    return read_checkpoint(job.init_from)
