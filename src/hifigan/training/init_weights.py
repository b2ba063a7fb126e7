"""A run's state started from existing weights (`--init-from`, `--init-discriminators`): the generator from an
official g_* file, a bare state dict or one of our checkpoints, each discriminator by name from the do_* file beside
a g_* file, the file given, or our checkpoint itself, with the optimizers' moments where they map; the step count and
the learning-rate schedule start afresh. What a resume restores exactly is state.py's."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hifigan.checkpoints.contents import CheckpointContents, load_generator_state, official_discriminator_file
from hifigan.checkpoints.official import OFFICIAL_DISCRIMINATORS
from hifigan.checkpoints.run_files import stored_discriminators
from hifigan.training.state import TrainingState, check_moment_shapes, load_optimizer_state


def init_from(state: TrainingState, path: Path, discriminators: Path | None = None,
              obj: dict[str, Any] | None = None, config_name: str | os.PathLike | None = None) -> list[str]:
    """Load the weights (and optimizer moments, when present) at `path` into `state` (`obj`: the file's contents,
    when the caller has read it already; `config_name`: the file or preset the run's config was read from, which a
    generator that does not fit it names). The step count and learning-rate schedule start afresh.

    Returns the log lines: what was loaded, and what starts fresh.
    """
    checkpoint = CheckpointContents.read(path) if obj is None else CheckpointContents(obj, path)
    load_generator_state(state.generator, checkpoint.generator_state(state.config.generator), state.config, path,
                         config_name, checkpoint.spelling())
    kind = " (a bare state dict)" if checkpoint.bare else " (official)" if checkpoint.official else ""
    loaded = [f"loaded generator from {path}{kind}"]
    source = discriminator_source(checkpoint, list(state.discriminators), discriminators)
    if source is not None:
        loaded += load_discriminators(state, source)
    elif state.discriminators:
        where = f"no official do_* file beside {path}" if checkpoint.official else f"{path} holds none of them"
        loaded.append(start_fresh(state.discriminators, where))
    state.restart_schedules()
    return loaded


def discriminator_source(checkpoint: CheckpointContents, names: list[str], given: Path | None
                         ) -> CheckpointContents | None:
    """Where the discriminators come from: the --init-discriminators file when given; else our checkpoint itself
    when it holds any of `names`; else, for an official g_* file, the do_* file beside it. None: fresh."""
    if given is not None:
        return CheckpointContents.read(given)
    if not checkpoint.official and held_discriminators(checkpoint, names):
        return checkpoint
    if checkpoint.official and checkpoint.source is not None:
        given = official_discriminator_file(Path(checkpoint.source))
    return None if given is None else CheckpointContents.read(given)


def held_discriminators(source: CheckpointContents, names: list[str]) -> list[str]:
    """Those of `names` whose weights `source` holds (an official do_* file: MPD and MSD; ours: by name)."""
    if source.official:
        return source.discriminator_names(names)
    return [name for name in names if name in stored_discriminators(source.contents) and name in source.contents]


def start_fresh(names: Iterable[str], why: str) -> str:
    """The log line for discriminators that start from random weights, and why (no source, not in the source)."""
    return f"discriminators ({', '.join(names)}) start fresh (random weights): {why}"


def load_discriminators(state: TrainingState, source: CheckpointContents) -> list[str]:
    """Each discriminator's weights that `source` (an official do_* file or our checkpoint) holds, by name; the
    others start fresh. The generator optimizer's moments are loaded when present; the discriminator optimizer's
    only when the file was trained with exactly this run's discriminators (its moments are stored by position
    over all of them, so another set cannot be mapped onto ours): else it starts fresh. Returns the log lines."""
    wanted = list(state.discriminators)
    names = held_discriminators(source, wanted)
    source.load_discriminators({name: state.discriminators[name] for name in names})
    lines = [f"loaded discriminators ({', '.join(names)}) from {source.source}"] if names else []
    fresh = [name for name in wanted if name not in names]
    if fresh:
        lines.append(start_fresh(fresh, f"not in {source.source}"))
    trained_with = list(OFFICIAL_DISCRIMINATORS) if source.official else stored_discriminators(source.contents)
    for name, optim in (("optim_g", state.optim_g), ("optim_d", state.optim_d)):
        moments = source.optimizer_state(name)
        if moments is None:
            continue
        if name == "optim_d" and sorted(trained_with) != sorted(wanted):
            lines.append(f"optim_d starts fresh (no moments): {source.source} holds them for discriminators "
                         f"({', '.join(trained_with)}), this run trains ({', '.join(wanted)})")
            continue
        load_optimizer_state(optim, moments, source.source, name, moments_only=True)
        check_moment_shapes(optim, source.source, name)
        lines.append(f"loaded {name} moments")
    return lines
